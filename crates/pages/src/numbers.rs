//! One way to write numbers and money on every page, in the reader's
//! locale: the browser's `Accept-Language` picks the separators and where
//! the currency symbol goes ("€1,234.50" in English, "1.234,50 €" in German,
//! "1 234,50 €" in French), from ICU4X's CLDR data.
//!
//! The locale is set once per request by [`reader_locale`] (a middleware on
//! the pages) and read here, so a page formats a number with
//! `numbers::count(n)` wherever it builds its text, and templates with the
//! `count` filter. The JSON API and the CLI keep
//! their plain, machine-readable numbers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;
use std::thread::LocalKey;

use axum::extract::Request;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::middleware::Next;
use axum::response::Response;
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_locale_core::Locale;
use icu_locale_core::locale;
use rapport_domain::Money;
use rapport_domain::money::{Currency, MoneySum};

tokio::task_local! {
    static LOCALE: Locale;
}

/// Runs the rest of the request with the locale its `Accept-Language` asks for.
pub async fn reader_locale(request: Request, next: Next) -> Response {
    let locale = request
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map_or_else(fallback, preferred_locale);
    LOCALE.scope(locale, next.run(request)).await
}

/// The locale pages use when the browser names none Rapport can read.
fn fallback() -> Locale {
    locale!("en")
}

/// The first of the highest-weighted language tags that parses as a locale
/// (`"de-CH, de;q=0.9, en;q=0.8"` → `de-CH`); `*` and unreadable tags are skipped.
fn preferred_locale(header: &str) -> Locale {
    let mut best: Option<(f32, Locale)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let tag = parts.next().unwrap_or("");
        let weight = parts
            .find_map(|part| part.strip_prefix("q="))
            .map_or(Some(1.0), |q| q.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)));
        let (Some(weight), Ok(locale)) = (weight, Locale::try_from_str(tag)) else { continue };
        if weight > 0.0 && tag != "*" && best.as_ref().is_none_or(|(top, _)| weight > *top) {
            best = Some((weight, locale));
        }
    }
    best.map_or_else(fallback, |(_, locale)| locale)
}

fn with_locale<T>(write: impl FnOnce(&Locale) -> T) -> T {
    // Outside a request (a unit test, a background job): the fallback.
    let locale = LOCALE.try_with(Locale::clone).unwrap_or_else(|_| fallback());
    write(&locale)
}

type Cache<K, V> = RefCell<HashMap<K, Rc<V>>>;

thread_local! {
    // Formatters are built from baked data once per locale (and currency) and
    // kept; per thread, as ICU4X's formatters are neither Send nor Sync.
    static DECIMALS: Cache<String, DecimalFormatter> = RefCell::default();
    static CURRENCIES: Cache<(String, Currency), CurrencyFormatter<DecimalFormatter>> = RefCell::default();
}

fn cached<K: Hash + Eq, V>(
    cache: &'static LocalKey<Cache<K, V>>,
    key: K,
    build: impl FnOnce() -> Option<V>,
) -> Option<Rc<V>> {
    cache.with(|cache| {
        if let Some(found) = cache.borrow().get(&key) {
            return Some(found.clone());
        }
        let built = Rc::new(build()?);
        cache.borrow_mut().insert(key, built.clone());
        Some(built)
    })
}

fn decimal_formatter(locale: &Locale) -> Option<Rc<DecimalFormatter>> {
    cached(&DECIMALS, locale.to_string(), || DecimalFormatter::try_new(locale.into(), Default::default()).ok())
}

fn currency_formatter(locale: &Locale, currency: Currency) -> Option<Rc<CurrencyFormatter<DecimalFormatter>>> {
    cached(&CURRENCIES, (locale.to_string(), currency), || {
        let code = CurrencyType::try_from_str(currency.as_str()).ok()?;
        CurrencyFormatter::try_new_symbol(locale.into(), code, Default::default()).ok()
    })
}

fn write_decimal(value: &Decimal) -> String {
    with_locale(|locale| match decimal_formatter(locale) {
        Some(formatter) => formatter.format(value).to_string(),
        None => value.to_string(),
    })
}

/// A whole number with the locale's grouping: 3703000 → "3,703,000".
pub fn count(value: impl Into<i128>) -> String {
    write_decimal(&Decimal::from(value.into()))
}

/// A measurement with exactly `digits` decimals (rounded): "6,984.8"; "—" when not finite.
pub fn decimal(value: f64, digits: usize) -> String {
    // Rust's own fixed-point text is exact for the digits asked; ICU4X then groups it.
    match format!("{value:.digits$}").parse::<Decimal>() {
        Ok(parsed) if value.is_finite() => write_decimal(&parsed),
        _ => "—".into(),
    }
}

/// A share (0.125) as a percentage with `digits` decimals: "12.5%"; "—" when not finite.
pub fn percent(share: f64, digits: usize) -> String {
    if share.is_finite() { format!("{}%", decimal(share * 100.0, digits)) } else { "—".into() }
}

/// An amount of money, exact (a sum may pass `i64`): "€1,234.50", "1.234,50 €".
pub fn money_minor(amount_minor: i128, currency: Currency) -> String {
    let mut amount = Decimal::from(amount_minor);
    let digits = currency.minor_digits() as i16;
    amount.absolute.multiply_pow10(-digits);
    amount.absolute.pad_end(-digits);
    with_locale(|locale| match currency_formatter(locale, currency) {
        Some(formatter) => formatter.format_fixed_decimal(&amount).to_string(),
        // A currency CLDR does not know: the number in the locale's style, then its code.
        None => format!("{} {currency}", write_decimal(&amount)),
    })
}

pub fn money(amount: &Money) -> String {
    money_minor(amount.amount_minor.into(), amount.currency)
}

pub fn sum(amount: &MoneySum) -> String {
    money_minor(amount.amount_minor, amount.currency)
}

/// A number as it was written ("1250.5", "-3703000"), grouped the locale's way
/// without rounding; text that is not a plain decimal comes back as it is.
pub fn exact(raw: &str) -> String {
    match raw.parse::<Decimal>() {
        Ok(parsed) if !raw.contains(['e', 'E']) => write_decimal(&parsed),
        _ => raw.to_owned(),
    }
}

/// The template filter `{{ n|count }}`.
/// A template's module brings them in with `use super::numbers::filters;`.
pub mod filters {
    use askama::Values;

    /// A whole number of any integer type a page holds.
    pub trait Whole {
        fn whole(&self) -> i128;
    }

    macro_rules! whole {
        ($($t:ty),*) => {$(impl Whole for $t { fn whole(&self) -> i128 { i128::from(*self) } })*};
    }
    whole!(i32, u32, i64, u64, i128);

    impl Whole for usize {
        fn whole(&self) -> i128 {
            // usize is at most 64 bits on every target Rapport builds for.
            *self as i128
        }
    }

    impl<T: Whole + ?Sized> Whole for &T {
        fn whole(&self) -> i128 {
            (**self).whole()
        }
    }

    #[askama::filter_fn]
    pub fn count(value: impl Whole, _: &dyn Values) -> askama::Result<String> {
        Ok(super::count(value.whole()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_locale<T>(tag: &str, write: impl FnOnce() -> T) -> T {
        LOCALE.sync_scope(preferred_locale(tag), write)
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn the_browser_s_first_choice_wins() {
        assert_eq!(preferred_locale("de-CH, de;q=0.9, en;q=0.8").to_string(), "de-CH");
        assert_eq!(preferred_locale("en;q=0.5, fr-FR").to_string(), "fr-FR");
        assert_eq!(preferred_locale("*, nl;q=0.1").to_string(), "nl");
        assert_eq!(preferred_locale("x y z, ;q=1").to_string(), "en");
        assert_eq!(preferred_locale("de;q=2, it;q=0").to_string(), "en");
    }

    #[test]
    fn numbers_follow_the_locale() {
        assert_eq!(in_locale("en-US", || count(3_703_000)), "3,703,000");
        assert_eq!(in_locale("de-DE", || count(3_703_000)), "3.703.000");
        assert_eq!(in_locale("en", || decimal(6984.84, 1)), "6,984.8");
        assert_eq!(in_locale("de", || decimal(6984.84, 1)), "6.984,8");
        assert_eq!(in_locale("en", || decimal(f64::NAN, 1)), "—");
        assert_eq!(in_locale("en", || percent(0.125, 1)), "12.5%");
        assert_eq!(in_locale("fr", || exact("-1250.50")), "-1\u{202f}250,50");
        assert_eq!(in_locale("en", || exact("1e30")), "1e30");
        // Outside a request: English.
        assert_eq!(count(-1234), "-1,234");
    }

    #[test]
    fn money_puts_the_symbol_where_the_locale_does() {
        assert_eq!(in_locale("en-US", || money_minor(123_450, eur())), "€1,234.50");
        assert_eq!(in_locale("de-DE", || money_minor(123_450, eur())), "1.234,50\u{a0}€");
        assert_eq!(in_locale("en-US", || money_minor(-5, eur())), "-€0.05");
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(in_locale("en-US", || money_minor(1_234, yen)), "¥1,234");
        // Beyond i64: still exact.
        assert_eq!(in_locale("en", || money_minor(10_i128.pow(20), eur())), "€1,000,000,000,000,000,000.00");
    }
}
