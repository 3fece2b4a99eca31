//! 64-bit ids: integers on the wire (as the API sends them), strings whenever they leave
//! Rust as JSON (JavaScript numbers lose precision above 2^53).

use serde::{de, Deserializer, Serializer};

/// Why a typed id is not one: the same words for every id a person types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{0:?} is empty: an id is a decimal number")]
    Empty(String),
    #[error("{0:?} is negative: ids are positive decimal numbers")]
    Negative(String),
    #[error("{0:?} is out of range: ids are at most 18446744073709551615")]
    OutOfRange(String),
    #[error("{0:?} is not a decimal number")]
    NotDecimal(String),
}

/// Parses an id a person typed (surrounding spaces allowed), naming what is wrong with it.
pub fn parse_id(s: &str) -> Result<u64, IdError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(IdError::Empty(s.to_owned()));
    }
    let digits = t.strip_prefix('+').unwrap_or(t);
    if let Some(rest) = t.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Negative(s.to_owned()));
        }
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::NotDecimal(s.to_owned()));
    }
    digits
        .parse::<u64>()
        .map_err(|_| IdError::OutOfRange(s.to_owned()))
}

/// Serialises a u64 as a decimal string.
pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Reads a u64 from a JSON integer or a decimal string.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a 64-bit unsigned id as an integer or a decimal string")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("negative id {v}")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            Err(E::custom(format!(
                "id {v} is not an integer (precision lost?)"
            )))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.parse()
                .map_err(|_| E::custom(format!("id {v:?} is not a decimal integer")))
        }
    }
    d.deserialize_any(V)
}

/// Same, for optional ids.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super")] u64);
        Ok(Option::<W>::deserialize(d)?.map(|W(v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids_say_what_is_wrong() {
        assert_eq!(
            parse_id(" 611298765432109056 "),
            Ok(611_298_765_432_109_056)
        );
        assert_eq!(parse_id("18446744073709551615"), Ok(u64::MAX));
        assert!(matches!(
            parse_id("18446744073709551616"),
            Err(IdError::OutOfRange(_))
        ));
        assert!(matches!(parse_id("-5"), Err(IdError::Negative(_))));
        assert!(matches!(parse_id("1.5"), Err(IdError::NotDecimal(_))));
        assert!(matches!(parse_id("abc"), Err(IdError::NotDecimal(_))));
        assert!(matches!(parse_id(""), Err(IdError::Empty(_))));
        assert!(parse_id("18446744073709551616")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
    }
}
