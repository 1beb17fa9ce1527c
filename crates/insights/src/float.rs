//! The `f64` fields of the reports, serialised so that a report stored as
//! JSON reads back exactly, NaN and infinities included.
//!
//! serde_json writes a non-finite `f64` as `null`, and `null` does not read
//! back as an `f64`: a stored report holding one would fail to load. Most
//! report figures are finite by construction (ratios, Kaplan–Meier
//! estimates and bands), but the lifetime value predictions are not always
//! (`(a+b+x-1)/(a-1)` with a fitted `a` of exactly 1 gives NaN; a spend model
//! with `q` = 1 divides by zero), and neither is a discount rate someone set.
//!
//! The API's JSON is a public contract: a number stays a number, and a
//! non-finite value stays `null` there as before (turning the field into an
//! `Option<f64>` or a string would change its schema). So every report
//! `f64` carries `#[serde(with = "rapport_insights::float")]` (or `::option`,
//! `::vec`): it writes exactly what serde_json wrote before, except inside
//! [`non_finite_as_strings`], the stored form, where a non-finite value is
//! written as the string `"NaN"`, `"Infinity"` or `"-Infinity"`. Reading
//! accepts a number or one of those strings (`null` is refused: it would
//! not say which non-finite value was lost). NaN payloads and signs are not
//! kept; every NaN reads back as `f64::NAN`.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NAN: &str = "NaN";
const INFINITY: &str = "Infinity";
const NEG_INFINITY: &str = "-Infinity";

thread_local! {
    /// Set while serialising the stored form on this thread. A thread-local
    /// switch, not a wrapper serializer: serialising is synchronous, so the
    /// switch cannot leak into another task's serialisation, and a
    /// serializer wrapper would have to reimplement all of serde's data
    /// model to pass itself down to nested values.
    static AS_STRINGS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `serialise` with non-finite report `f64`s written as strings (the
/// stored form). Restores the previous mode afterwards, also on a panic.
pub fn non_finite_as_strings<R>(serialise: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            AS_STRINGS.with(|mode| mode.set(self.0));
        }
    }
    let _restore = Restore(AS_STRINGS.with(|mode| mode.replace(true)));
    serialise()
}

/// Serialises an `f64`: a number, or for a non-finite value `null` (the API
/// form) or its name (inside [`non_finite_as_strings`]).
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let value = *value;
    if value.is_finite() || !AS_STRINGS.with(Cell::get) {
        return serializer.serialize_f64(value);
    }
    serializer.serialize_str(if value.is_nan() {
        NAN
    } else if value > 0.0 {
        INFINITY
    } else {
        NEG_INFINITY
    })
}

/// Deserialises an `f64` from a number or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    deserializer.deserialize_any(FloatVisitor)
}

struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a number, {NAN:?}, {INFINITY:?} or {NEG_INFINITY:?}")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            NAN => Ok(f64::NAN),
            INFINITY => Ok(f64::INFINITY),
            NEG_INFINITY => Ok(f64::NEG_INFINITY),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// One `f64` through this module, for the `Option` and `Vec` forms.
struct Float(f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Float)
    }
}

/// The same for an `Option<f64>` (`None` is `null`, as before).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Float;

    /// Serialises like `Option<f64>`, non-finite values as in [`super::serialize`].
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.serialize_some(&Float(*v)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserialises `null`, a number or the name of a non-finite value.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<Float>::deserialize(deserializer)?.map(|f| f.0))
    }
}

/// The same for a `Vec<f64>`.
pub mod vec {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Float;

    /// Serialises like `Vec<f64>`, non-finite values as in [`super::serialize`].
    pub fn serialize<S: Serializer>(value: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(|v| Float(*v)))
    }

    /// Deserialises an array of numbers or names of non-finite values.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Float>::deserialize(deserializer)?.into_iter().map(|f| f.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::non_finite_as_strings;

    #[derive(Debug, Serialize, Deserialize)]
    struct Row {
        #[serde(with = "super")]
        x: f64,
        #[serde(with = "super::option")]
        o: Option<f64>,
        #[serde(with = "super::vec")]
        v: Vec<f64>,
    }

    /// What serde_json writes for plain `f64` fields: the API form must not change.
    #[derive(Serialize)]
    struct Plain {
        x: f64,
        o: Option<f64>,
        v: Vec<f64>,
    }

    fn bits(row: &Row) -> Vec<u64> {
        let mut all = vec![row.x.to_bits(), row.o.map_or(0, f64::to_bits)];
        all.extend(row.v.iter().map(|v| v.to_bits()));
        all
    }

    #[test]
    fn the_api_form_is_what_plain_floats_give() {
        let values = [0.1, -0.0, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        for x in values {
            let row = Row { x, o: Some(x), v: vec![x, 2.5] };
            let plain = Plain { x, o: Some(x), v: vec![x, 2.5] };
            assert_eq!(serde_json::to_string(&row).unwrap(), serde_json::to_string(&plain).unwrap());
        }
        let none = Row { x: 1.0, o: None, v: Vec::new() };
        assert_eq!(serde_json::to_string(&none).unwrap(), r#"{"x":1.0,"o":null,"v":[]}"#);
    }

    #[test]
    fn the_stored_form_reads_back_exactly() {
        let row = Row {
            x: f64::NAN,
            o: Some(f64::NEG_INFINITY),
            v: vec![f64::INFINITY, -0.0, 0.1 + 0.2, f64::MIN_POSITIVE, f64::NAN],
        };
        let json = non_finite_as_strings(|| serde_json::to_string(&row)).unwrap();
        assert_eq!(
            json,
            r#"{"x":"NaN","o":"-Infinity","v":["Infinity",-0.0,0.30000000000000004,2.2250738585072014e-308,"NaN"]}"#
        );
        let back: Row = serde_json::from_str(&json).unwrap();
        assert!(back.x.is_nan() && back.v[4].is_nan());
        let (mut want, mut got) = (bits(&row), bits(&back));
        // Any NaN reads back as the canonical one.
        for b in [&mut want, &mut got] {
            b[0] = 0;
            b[6] = 0;
        }
        assert_eq!(got, want);
        // The switch is off again afterwards.
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"x":null,"o":null,"v":[null,-0.0,0.30000000000000004,2.2250738585072014e-308,null]}"#
        );
    }

    #[test]
    fn the_switch_is_reset_after_a_panic() {
        let caught = std::panic::catch_unwind(|| non_finite_as_strings(|| panic!("while serialising")));
        assert!(caught.is_err());
        assert_eq!(
            serde_json::to_string(&Row { x: f64::NAN, o: None, v: Vec::new() }).unwrap(),
            r#"{"x":null,"o":null,"v":[]}"#
        );
    }

    #[test]
    fn other_text_and_null_are_refused() {
        for json in
            [r#"{"x":"nan","o":null,"v":[]}"#, r#"{"x":null,"o":null,"v":[]}"#, r#"{"x":1,"o":null,"v":[null]}"#]
        {
            assert!(serde_json::from_str::<Row>(json).is_err(), "{json}");
        }
        let ints: Row = serde_json::from_str(r#"{"x":3,"o":-2,"v":[]}"#).unwrap();
        assert_eq!((ints.x, ints.o), (3.0, Some(-2.0)));
    }
}
