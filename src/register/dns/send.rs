//! Talking to the DNS server: a signed UPDATE and its answer, and plain queries to
//! see what the server answers afterwards. The transport (UDP, answer matching,
//! retransmits) is hickory-net's; the TSIG signing and checking is done here, so
//! that a server's "your key is wrong" arrives as that, in plain words, and not as
//! the signature-verification failure a signing transport would report it as.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use hickory_net::NetError;
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::udp::UdpClientStream;
use hickory_net::xfer::DnsRequestSender;
use hickory_proto::op::{DnsRequest, DnsRequestOptions, DnsResponse, Message, Query, ResponseCode};
use hickory_proto::rr::rdata::tsig::TsigError;
use hickory_proto::rr::{Name, Record, RecordType};

use super::key::TsigKey;
use super::plan::{Op, Update};
use super::server::Server;

/// Why an update or a query did not work, each with what to do about it. All are
/// the server's answer (or its silence): exit 1.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error(
        "no answer from the DNS server {server} within {timeout_s} s; is it running and listening on that address and port (UDP)? Check --server (or `server` in [register])"
    )]
    Timeout { server: String, timeout_s: u64 },
    #[error("cannot talk to the DNS server {server}: {detail}")]
    Network { server: String, detail: String },
    #[error(
        "the server refused the update of zone {zone} (REFUSED): it does not allow key \"{key}\" to change that zone. The lab admin needs, in the zone's block of named.conf:\n    update-policy {{ grant {key} zonesub ANY; }};"
    )]
    Refused { zone: String, key: String },
    #[error(
        "the server does not know the key \"{key}\" (BADKEY): the key's name or algorithm does not match any key in its named.conf. Check the key file came from this server, or ask the lab admin to add it"
    )]
    BadKey { key: String },
    #[error(
        "the key's secret is wrong (BADSIG): the server knows a key named \"{key}\" but its secret is different. Copy the key file from the DNS server again"
    )]
    BadSig { key: String },
    #[error(
        "the Pi's clock and the server's differ by more than 5 minutes (BADTIME), so the signature is not accepted. Wait for the clock to be set (timedatectl) and try again"
    )]
    BadTime,
    #[error(
        "the key is not accepted by the server (NOTAUTH{tsig}): check that the key file is the one the server has for this zone"
    )]
    KeyNotAccepted { tsig: String },
    #[error(
        "the server {server} is not authoritative for zone {zone} (NOTAUTH): check --zone, and that --server is the zone's primary"
    )]
    NotAuth { server: String, zone: String },
    #[error(
        "{name} is not in zone {zone} (NOTZONE): give --name as a name in that zone (a single label is put in it), or the right --zone"
    )]
    NotZone { zone: String, name: String },
    #[error(
        "the server could not apply the update of zone {zone} (SERVFAIL); its log says why (often: it cannot write the zone's journal file)"
    )]
    ServFail { zone: String },
    #[error(
        "the server does not take dynamic updates for zone {zone} ({code}); is it the zone's primary, with updates enabled?"
    )]
    NotImplemented { zone: String, code: String },
    #[error("the server answered the update of zone {zone} with {code}")]
    Other { zone: String, code: String },
    #[error(
        "the server {server} answered {code} to a query for {name} {rtype}: check --name and --zone, and that the zone's allow-query lets this host ask"
    )]
    Query {
        server: String,
        name: String,
        rtype: String,
        code: String,
    },
    #[error(
        "the server's answer to the update of zone {zone} is not signed with the key (a TSIG answer must be): {detail}; not trusting it"
    )]
    Unsigned { zone: String, detail: String },
    #[error("cannot build the DNS message: {0}")]
    Encode(String),
}

/// Sends `update` signed with `key` and checks the answer, which must be NOERROR and
/// signed with the same key.
pub async fn update(
    server: &Server,
    update: &Update,
    key: &TsigKey,
    timeout: Duration,
) -> Result<(), DnsError> {
    let zone = update.zone.to_string();
    let mut message = update.to_message();
    let signer = key.signer().map_err(|e| DnsError::Encode(e.to_string()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let verifier = message
        .finalize(&signer, now)
        .map_err(|e| DnsError::Encode(e.to_string()))?;
    let response = exchange(server, message, timeout).await?;
    let tsig_error = response.signature().and_then(|s| s.data.error);
    match (response.response_code, tsig_error) {
        (_, Some(TsigError::BadKey)) => Err(DnsError::BadKey {
            key: key.name.clone(),
        }),
        (_, Some(TsigError::BadSig)) => Err(DnsError::BadSig {
            key: key.name.clone(),
        }),
        (_, Some(TsigError::BadTime)) => Err(DnsError::BadTime),
        (ResponseCode::BADKEY, _) => Err(DnsError::BadKey {
            key: key.name.clone(),
        }),
        (ResponseCode::BADSIG, _) => Err(DnsError::BadSig {
            key: key.name.clone(),
        }),
        (ResponseCode::BADTIME, _) => Err(DnsError::BadTime),
        (ResponseCode::NotAuth, Some(other)) => Err(DnsError::KeyNotAccepted {
            tsig: format!(", TSIG error {}", u16::from(other)),
        }),
        (ResponseCode::NotAuth, None) => Err(DnsError::NotAuth {
            server: server.shown.clone(),
            zone,
        }),
        (ResponseCode::Refused, _) => Err(DnsError::Refused {
            zone,
            key: key.name.trim_end_matches('.').to_string(),
        }),
        (ResponseCode::NotZone, _) => Err(DnsError::NotZone {
            zone,
            name: update
                .ops
                .iter()
                .map(Op::name)
                .find(|n| !update.zone.zone_of(n))
                .map_or_else(|| "a name in the update".to_string(), Name::to_string),
        }),
        (ResponseCode::ServFail, _) => Err(DnsError::ServFail { zone }),
        (code @ (ResponseCode::NotImp | ResponseCode::FormErr), _) => {
            Err(DnsError::NotImplemented {
                zone,
                code: code.to_str().to_uppercase(),
            })
        }
        (ResponseCode::NoError, _) => {
            let Some(mut verifier) = verifier else {
                return Err(DnsError::Encode("hickory gave no TSIG verifier".into()));
            };
            verifier
                .verify(response.as_buffer())
                .map(|_| ())
                .map_err(|e| DnsError::Unsigned {
                    zone,
                    detail: e.to_string(),
                })
        }
        (code, _) => Err(DnsError::Other {
            zone,
            code: code.to_str().to_uppercase(),
        }),
    }
}

/// The records of `rtype` the server answers for `name` (no recursion: it is the
/// zone's own server). An empty answer (NXDOMAIN, NODATA) is an empty list.
pub async fn query(
    server: &Server,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Vec<Record>, DnsError> {
    let mut message = Message::query();
    message.add_query(Query::query(name.clone(), rtype));
    message.metadata.recursion_desired = false;
    let response = exchange(server, message, timeout).await?;
    match response.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(response
            .answers
            .iter()
            .filter(|r| r.record_type() == rtype && &r.name == name)
            .cloned()
            .collect()),
        code => Err(DnsError::Query {
            server: server.shown.clone(),
            name: name.to_string(),
            rtype: rtype.to_string(),
            code: code.to_str().to_uppercase(),
        }),
    }
}

/// One request, one answer, over UDP, within `timeout` in all (retransmits included).
async fn exchange(
    server: &Server,
    message: Message,
    timeout: Duration,
) -> Result<DnsResponse, DnsError> {
    let mut stream = UdpClientStream::builder(server.addr, TokioRuntimeProvider::new())
        .with_timeout(Some(timeout))
        .build();
    let request = DnsRequest::new(message, DnsRequestOptions::default());
    let timed_out = || DnsError::Timeout {
        server: server.shown.clone(),
        timeout_s: timeout.as_secs(),
    };
    // hickory's own timeout covers its retransmits; this one bounds everything else.
    let answer = tokio::time::timeout(timeout + Duration::from_millis(500), async {
        stream.send_message(request).next().await
    })
    .await
    .map_err(|_| timed_out())?;
    match answer {
        Some(Ok(response)) => Ok(response),
        Some(Err(NetError::Timeout)) | None => Err(timed_out()),
        Some(Err(e)) => Err(DnsError::Network {
            server: server.shown.clone(),
            detail: e.to_string(),
        }),
    }
}
