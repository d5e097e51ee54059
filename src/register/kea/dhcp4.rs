//! Kea's `Dhcp4` configuration as `config-get` returns it, as plain JSON: where its
//! subnets are (top-level `subnet4`, and inside `shared-networks`) and what they
//! hold. It exists so that the rest of `register kea` asks for "subnet 7" and
//! never walks Kea's layout itself.

use serde_json::Value;

use super::KeaError;

/// The `Dhcp4` object of a `config-get` answer, without what `config-set` rejects:
/// newer Kea versions add a `hash` of the configuration, beside or inside `Dhcp4`.
pub(super) fn from_answer(arguments: Value) -> Result<Value, KeaError> {
    let Value::Object(mut top) = arguments else {
        return Err(KeaError::Unexpected { what: "arguments" });
    };
    let mut dhcp4 = top
        .remove("Dhcp4")
        .filter(Value::is_object)
        .ok_or(KeaError::Unexpected {
            what: "`Dhcp4` object",
        })?;
    if let Some(object) = dhcp4.as_object_mut() {
        object.remove("hash");
    }
    Ok(dhcp4)
}

/// Every `subnet4` entry: top-level ones, then those of shared networks.
pub(super) fn subnets(dhcp4: &Value) -> impl Iterator<Item = &Value> {
    let top = list(dhcp4, "subnet4");
    let shared = list(dhcp4, "shared-networks").flat_map(|network| list(network, "subnet4"));
    top.chain(shared)
}

/// [`subnets`], mutable.
pub(super) fn subnets_mut(dhcp4: &mut Value) -> impl Iterator<Item = &mut Value> {
    let Some(object) = dhcp4.as_object_mut() else {
        return Vec::new().into_iter();
    };
    let mut found: Vec<&mut Value> = Vec::new();
    for (key, value) in object.iter_mut() {
        match (key.as_str(), value) {
            ("subnet4", Value::Array(subnets)) => found.extend(subnets.iter_mut()),
            ("shared-networks", Value::Array(networks)) => {
                for network in networks {
                    if let Some(Value::Array(subnets)) = network.get_mut("subnet4") {
                        found.extend(subnets.iter_mut());
                    }
                }
            }
            _ => {}
        }
    }
    found.into_iter()
}

/// The elements of an array member, or none.
fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

pub(super) fn reservations(subnet: &Value) -> impl Iterator<Item = &Value> {
    list(subnet, "reservations")
}

pub(super) fn subnet_id(subnet: &Value) -> Option<u32> {
    subnet
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|id| u32::try_from(id).ok())
}

/// `1 (10.20.30.0/24), 2 (…)`, for an unknown `--subnet-id`.
pub(super) fn known_subnets(dhcp4: &Value) -> String {
    let known: Vec<String> = subnets(dhcp4)
        .map(|s| {
            let id = subnet_id(s).map_or_else(|| "?".to_owned(), |id| id.to_string());
            let prefix = s.get("subnet").and_then(Value::as_str).unwrap_or("?");
            format!("{id} ({prefix})")
        })
        .collect();
    if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subnets_are_found_also_in_shared_networks() {
        let dhcp4 = json!({
            "subnet4": [{"id": 1, "subnet": "10.20.30.0/24"}],
            "shared-networks": [{"name": "lab", "subnet4": [{"id": 7, "subnet": "10.99.0.0/16"}]}],
        });
        let ids: Vec<Option<u32>> = subnets(&dhcp4).map(subnet_id).collect();
        assert_eq!(ids, [Some(1), Some(7)]);
        assert_eq!(known_subnets(&dhcp4), "1 (10.20.30.0/24), 7 (10.99.0.0/16)");
        assert_eq!(known_subnets(&json!({})), "none");
    }

    #[test]
    fn the_hash_is_stripped() {
        let got = json!({"Dhcp4": {"subnet4": [], "hash": "abc"}, "hash": "abc"});
        assert_eq!(from_answer(got).unwrap(), json!({"subnet4": []}));
        assert!(from_answer(json!({"Dhcp6": {}})).is_err());
    }
}
