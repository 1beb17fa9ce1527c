//! Money as integer minor units (cents) with an ISO 4217 currency: no floats,
//! so sums are exact.

use serde::{Deserialize, Serialize};

/// Active ISO 4217 codes.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

crate::schema::schema_from!(
    Currency,
    crate::schema::one_of(ISO_4217.split(' '), "An active ISO 4217 currency code, e.g. EUR.")
);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 3 && ISO_4217.split(' ').any(|known| known == code) {
            let bytes = code.as_bytes();
            Ok(Self([bytes[0], bytes[1], bytes[2]]))
        } else {
            Err("not an ISO 4217 currency code".into())
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The largest amount Rapport takes, in minor units either side of zero:
/// 10^15 (ten trillion euros in cents). Any 9 223 such amounts still sum
/// within an `i64`; sums of more can pass it, so every sum Rapport makes
/// (insights, overview, board) is computed exactly in `i128`.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// Amount in minor units, e.g. cents; at most 10^15 either side of zero.
    #[serde(deserialize_with = "bounded_amount")]
    #[schema(minimum = -1_000_000_000_000_000_i64, maximum = 1_000_000_000_000_000_i64)]
    pub amount_minor: i64,
    pub currency: Currency,
}

/// The schema of a [`Money`] that must not be negative (a deal's value, a
/// purchase's amount): 0 to `MAX_AMOUNT_MINOR` minor units.
pub fn non_negative_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::Ref;
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let amount = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(MAX_AMOUNT_MINOR))
        .description(Some("Amount in minor units, e.g. cents; 0 to 10^15."));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("amount_minor", amount)
        .required("amount_minor")
        .property("currency", Ref::from_schema_name("Currency"))
        .required("currency")
        .build()
}

/// An amount within ±`MAX_AMOUNT_MINOR`.
fn bounded_amount<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let amount = i64::deserialize(deserializer)?;
    check_amount(amount).map_err(serde::de::Error::custom)
}

/// Whether an amount is within ±`MAX_AMOUNT_MINOR`, with what to do if not.
pub fn check_amount(amount_minor: i64) -> Result<i64, String> {
    if (-MAX_AMOUNT_MINOR..=MAX_AMOUNT_MINOR).contains(&amount_minor) {
        Ok(amount_minor)
    } else {
        Err("must be between -1000000000000000 and 1000000000000000 minor units (10^15)".into())
    }
}

/// The currencies without minor units, and those with three digits of them (the rest have two).
pub const NO_MINOR_DIGITS: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
    "XPF",
];
pub const THREE_MINOR_DIGITS: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

impl Currency {
    /// Digits after the decimal point in everyday amounts (ISO 4217 minor units).
    pub fn minor_digits(&self) -> u32 {
        if NO_MINOR_DIGITS.contains(&self.as_str()) {
            0
        } else if THREE_MINOR_DIGITS.contains(&self.as_str()) {
            3
        } else {
            2
        }
    }
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self { amount_minor, currency }
    }

    /// An amount as people type it ("1250", "1,250.50", "-3.5") in `currency`.
    pub fn parse_major(raw: &str, currency: Currency) -> Result<Money, String> {
        let cleaned: String = raw.trim().chars().filter(|c| *c != ',' && *c != '_' && !c.is_whitespace()).collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let scale = currency.minor_digits();
        let well_formed = !whole.is_empty()
            && whole.chars().all(|c| c.is_ascii_digit())
            && fraction.chars().all(|c| c.is_ascii_digit())
            && fraction.len() <= scale as usize;
        if !well_formed {
            return Err(match scale {
                0 => "must be a whole amount such as 1250".to_string(),
                n => format!("must be an amount such as 1250.{}", "5".repeat(n as usize)),
            });
        }
        let too_large = || "is too large".to_string();
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse::<i64>().map_err(|_| too_large())? * 10_i64.pow(scale - fraction.len() as u32)
        };
        let minor = whole.checked_mul(10_i64.pow(scale)).and_then(|w| w.checked_add(fraction)).ok_or_else(too_large)?;
        let minor = check_amount(minor).map_err(|_| too_large())?;
        Ok(Money { amount_minor: if negative { -minor } else { minor }, currency })
    }

    /// The amount in major units with grouped thousands, without the currency.
    pub fn major_text(&self) -> String {
        major_text(self.amount_minor.into(), self.currency)
    }

    /// The amount in major units as a form field shows it, e.g. "12500.00".
    pub fn input_text(&self) -> String {
        self.major_text().replace(',', "")
    }
}

/// A sum of amounts, which may pass `i64` (each amount is bounded, a sum is
/// not), in major units with grouped thousands, e.g. "12,500.00".
pub fn major_text(amount_minor: i128, currency: Currency) -> String {
    let scale = currency.minor_digits();
    let unit = 10_u128.pow(scale);
    let absolute = amount_minor.unsigned_abs();
    let grouped = group_thousands(&(absolute / unit).to_string());
    let sign = if amount_minor < 0 { "-" } else { "" };
    match scale {
        0 => format!("{sign}{grouped}"),
        n => format!("{sign}{grouped}.{:0width$}", absolute % unit, width = n as usize),
    }
}

/// Digits with a comma between each group of three: "3703000" → "3,703,000".
pub fn group_thousands(digits: &str) -> String {
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// [`major_text`] with the currency, e.g. "12,500.00 EUR".
pub fn display_sum(amount_minor: i128, currency: Currency) -> String {
    format!("{} {currency}", major_text(amount_minor, currency))
}

/// A sum of amounts in one currency, exact: each amount is within
/// ±`MAX_AMOUNT_MINOR`, but a sum of more than 9 223 of them can pass `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoneySum {
    pub amount_minor: i128,
    pub currency: Currency,
}

impl MoneySum {
    pub fn new(amount_minor: i128, currency: Currency) -> Self {
        Self { amount_minor, currency }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded() {
        let money = |amount: serde_json::Value| {
            serde_json::from_value::<Money>(serde_json::json!({ "amount_minor": amount, "currency": "EUR" }))
        };
        assert!(money(serde_json::json!(1_000_000_000_000_000_i64)).is_ok());
        assert!(money(serde_json::json!(-1_000_000_000_000_000_i64)).is_ok());
        for too_big in
            [serde_json::json!(1_000_000_000_000_001_i64), serde_json::json!(i64::MAX), serde_json::json!(i64::MIN)]
        {
            let error = money(too_big).unwrap_err().to_string();
            assert!(error.contains("10^15"), "{error}");
        }
    }

    #[test]
    fn currency_codes_are_checked_against_iso_4217() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EU").is_err());
        assert!(Currency::parse("ABC").is_err());
        assert!(Currency::parse("EURO").is_err());
    }

    #[test]
    fn amounts_read_and_print_in_major_units() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse_major("1,250.5", eur).unwrap().amount_minor, 125_050);
        assert_eq!(Money::parse_major("-3", eur).unwrap().amount_minor, -300);
        assert_eq!(Money::parse_major("1250", jpy).unwrap().amount_minor, 1250);
        assert!(Money::parse_major("12.5", jpy).is_err());
        assert!(Money::parse_major("1.234", eur).is_err());
        assert!(Money::parse_major("abc", eur).is_err());
        assert!(Money::parse_major("99999999999999999999", eur).is_err());
        assert!(Money::parse_major("10000000000000.00", eur).is_ok());
        assert!(Money::parse_major("10000000000000.01", eur).is_err());
        assert_eq!(Money::new(1_234_567, eur).major_text(), "12,345.67");
        assert_eq!(Money::new(-5, eur).major_text(), "-0.05");
        assert_eq!(Money::new(1_000_000, jpy).major_text(), "1,000,000");
        assert_eq!(Money::new(125_050, eur).input_text(), "1250.50");
        assert_eq!(display_sum(i128::from(i64::MAX) * 4 + 3, eur), "368,934,881,474,191,032.31 EUR");
        assert_eq!(display_sum(i128::from(i64::MIN) * 2, jpy), "-18,446,744,073,709,551,616 JPY");
    }
}
