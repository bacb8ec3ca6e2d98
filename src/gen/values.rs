//! Realistic values for the fields of the example schema, by field name, with a
//! fallback by type for any other field: the URLs, links, search terms, forms and asset
//! types the example rules look for, job titles their regexes match, and so on.

use super::table::Cell;
use crate::plan::schema::{Field, Type};
use chrono::{NaiveDate, TimeDelta};
use rand::RngExt;
use rand_xorshift::XorShiftRng;

/// The time span of the generated history, in seconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    /// A moment in the span, uniformly.
    pub fn moment(&self, rng: &mut XorShiftRng) -> i64 {
        rng.random_range(self.start..self.end.max(self.start + 1))
    }

    /// A moment in the span, more often recent ones.
    pub fn recent(&self, rng: &mut XorShiftRng) -> i64 {
        let u: f64 = rng.random();
        let len = (self.end - self.start).max(1) as f64;
        self.end - (len * u * u) as i64
    }
}

const FIRST: [&str; 12] = [
    "anna", "jon", "mette", "lars", "sofia", "ahmed", "beatriz", "tom", "kari", "li", "maria",
    "olafur",
];
const LAST: [&str; 10] = [
    "hansen", "miller", "jonsson", "garcia", "nielsen", "smith", "berg", "walker", "kim", "silva",
];
const TITLES: [&str; 18] = [
    "CEO",
    "CTO",
    "CFO",
    "Director of Marketing",
    "VP Sales",
    "Head of IT",
    "Marketing Manager",
    "Account Manager",
    "Marketing Analyst",
    "Data Specialist",
    "Campaign Coordinator",
    "Executive Assistant",
    "Developer",
    "Salgsdirektør",
    "Konsulent",
    "Product Owner",
    "Student",
    "Forstjóri",
];
const COUNTRIES: [&str; 9] = [
    "Denmark",
    "Iceland",
    "Norway",
    "Germany",
    "Portugal",
    "United States",
    "Canada",
    "Japan",
    "Sweden",
];
const REPS: [&str; 6] = [
    "Mette Sørensen",
    "Tom Walker",
    "Ana Costa",
    "Jón Jónsson",
    "Priya Nair",
    "Erik Lund",
];
const HOBBIES: [&str; 8] = [
    "football", "reading", "sailing", "cooking", "running", "gaming", "music", "chess",
];
const URLS: [&str; 16] = [
    "/",
    "/pricing",
    "/demo",
    "/compare",
    "/contact-sales",
    "/service",
    "/service/onboarding",
    "/blog/segments-101",
    "/blog/lead-scoring",
    "/blog/nurture",
    "/product/crm",
    "/product/email",
    "/product/analytics",
    "/careers",
    "/docs/api",
    "/about",
];
const LINKS: [&str; 8] = [
    "https://example.com/service/consulting",
    "https://example.com/product/crm",
    "https://example.com/product/email",
    "https://example.com/product/analytics",
    "https://example.com/blog/lead-scoring",
    "https://example.com/pricing",
    "https://example.com/events",
    "https://example.com/unsubscribe",
];
const TERMS: [&str; 16] = [
    "crm",
    "pipeline",
    "newsletter",
    "email marketing",
    "dashboard",
    "analytics",
    "consulting",
    "service",
    "pricing",
    "integrations",
    "salgsstyring",
    "nyhedsbrev",
    "greining",
    "tjeneste",
    "api",
    "gdpr",
];
const CAMPAIGNS: [&str; 6] = [
    "newsletter",
    "crm-launch",
    "webinar-invite",
    "product-update",
    "winback",
    "analytics-beta",
];
const VIDEOS: [&str; 5] = [
    "product-demo-crm",
    "product-demo-email",
    "product-demo-analytics",
    "customer-story",
    "webinar-recording",
];
const FORMS: [&str; 5] = [
    "demo-request",
    "newsletter-signup",
    "contact",
    "trial",
    "download-gate",
];
const INDUSTRIES: [&str; 7] = [
    "Software",
    "Software & Services",
    "Manufacturing",
    "Retail",
    "Finance",
    "Fishing",
    "Healthcare",
];
const COMPANY: [&str; 8] = [
    "Nordlys", "Fjord", "Atlas", "Vik", "Helix", "Polar", "Saga", "Tindur",
];

fn pick<'a>(rng: &mut XorShiftRng, xs: &[&'a str]) -> &'a str {
    xs.get(rng.random_range(0..xs.len().max(1)))
        .copied()
        .unwrap_or("")
}

/// A value for `field` of a contact (`row` is the contact's index), an account or an
/// event; `Cell::Missing` for some optional fields.
pub fn value(field: &Field, row: u64, span: &Span, rng: &mut XorShiftRng) -> Cell {
    if field.optional && rng.random_bool(0.15) {
        return Cell::Missing;
    }
    let name = field.name.as_str();
    if let Some(cell) = named(name, &field.ty, row, span, rng) {
        return cell;
    }
    by_type(field, row, span, rng)
}

/// Values for the fields the example schema names, when their type fits.
fn named(name: &str, ty: &Type, row: u64, span: &Span, rng: &mut XorShiftRng) -> Option<Cell> {
    let text = |s: String| Some(Cell::Text(s));
    match (name, ty) {
        ("email", Type::Text) => text(format!(
            "{}.{}{row}@example.com",
            pick(rng, &FIRST),
            pick(rng, &LAST)
        )),
        ("job_title", Type::Text) => text(pick(rng, &TITLES).into()),
        ("country", Type::Text) => text(pick(rng, &COUNTRIES).into()),
        ("owner" | "rep", Type::Text) => text(pick(rng, &REPS).into()),
        ("hobbies", Type::Text) => text(pick(rng, &HOBBIES).into()),
        ("url", Type::Text) => text(pick(rng, &URLS).into()),
        ("link", Type::Text) => text(pick(rng, &LINKS).into()),
        ("term", Type::Text) => text(pick(rng, &TERMS).into()),
        ("campaign", Type::Text) => {
            let month = rng.random_range(1..=12);
            text(format!("{}-{month:02}", pick(rng, &CAMPAIGNS)))
        }
        ("video", Type::Text) => text(pick(rng, &VIDEOS).into()),
        ("form", Type::Text) => text(pick(rng, &FORMS).into()),
        ("asset", Type::Text) => text(format!("asset-{}", rng.random_range(1..40))),
        ("webinar", Type::Text) => text(format!("webinar-{}", rng.random_range(1..24))),
        ("industry", Type::Text) => text(pick(rng, &INDUSTRIES).into()),
        ("name", Type::Text) => text(format!("{} {} {row}", pick(rng, &COMPANY), "A/S")),
        ("seconds", Type::Int) => Some(Cell::Int(geometric(rng, 45.0).min(3600))),
        ("minutes", Type::Int) => Some(Cell::Int(rng.random_range(1..90))),
        ("amount", Type::Number) => Some(Cell::Num((rng.random_range(5..500) * 100) as f64)),
        ("lifetime_value", Type::Number) => Some(Cell::Num(if rng.random_bool(0.7) {
            0.0
        } else {
            (rng.random_range(1..2000) * 50) as f64
        })),
        ("income", Type::Number) => Some(Cell::Num((rng.random_range(20..200) * 1000) as f64)),
        ("age", Type::Int) => Some(Cell::Int(rng.random_range(18..76))),
        ("household", Type::Int) => Some(Cell::Int(rng.random_range(1..7))),
        ("employees", Type::Int) => Some(Cell::Int(log_uniform(rng, 1.0, 50_000.0) as i64)),
        ("first_seen", Type::Timestamp) => Some(Cell::Time(span.moment(rng) * 1_000_000)),
        _ => None,
    }
}

/// A value of the field's type, within its range.
fn by_type(field: &Field, row: u64, span: &Span, rng: &mut XorShiftRng) -> Cell {
    let (lo, hi) = field.range.unwrap_or((0.0, 1000.0));
    match &field.ty {
        Type::Text => Cell::Text(format!("{}-{}", field.name, rng.random_range(0..50))),
        Type::Int => {
            let (lo, hi) = (lo.ceil(), hi.floor().max(lo.ceil()));
            let x = if hi - lo > 10_000.0 {
                log_uniform(rng, lo.max(1.0), hi.min(1e6))
            } else {
                lo + rng.random::<f64>() * (hi - lo + 1.0)
            };
            Cell::Int((x.floor()).clamp(lo, hi) as i64)
        }
        Type::Number => {
            let x = lo + rng.random::<f64>() * (hi - lo).min(1e6);
            Cell::Num(((x * 100.0).round() / 100.0).clamp(lo, hi))
        }
        Type::Bool => Cell::Bool(rng.random_bool(0.5)),
        Type::Date => {
            let day = span.moment(rng).div_euclid(86_400);
            Cell::Date(
                NaiveDate::default()
                    .checked_add_signed(TimeDelta::days(day))
                    .unwrap_or_default(),
            )
        }
        Type::Timestamp => Cell::Time(span.moment(rng) * 1_000_000),
        Type::Duration => Cell::Int(rng.random_range(1..730) * 86_400),
        Type::Enum(values) => Cell::Text(
            values
                .get(rng.random_range(0..values.len().max(1)))
                .cloned()
                .unwrap_or_default(),
        ),
        Type::AccountLink => Cell::Text(format!("account-{row}")),
    }
}

/// Whole numbers ≥ 1, mean about `mean`, with a long tail.
fn geometric(rng: &mut XorShiftRng, mean: f64) -> i64 {
    let u: f64 = rng.random::<f64>().max(1e-12);
    (1.0 - mean * u.ln()) as i64
}

fn log_uniform(rng: &mut XorShiftRng, lo: f64, hi: f64) -> f64 {
    let (a, b) = (lo.max(1e-9).ln(), hi.max(lo + 1e-9).ln());
    (a + rng.random::<f64>() * (b - a)).exp()
}

/// The weight of an event type in the stream: email and web events are common,
/// purchases and bounces rare.
pub fn event_weight(name: &str) -> f64 {
    match name {
        "page_viewed" => 30.0,
        "email_sent" => 25.0,
        "email_opened" => 15.0,
        "email_clicked" => 8.0,
        "searched" | "social_engaged" => 5.0,
        "asset_downloaded" | "video_watched" => 3.0,
        "form_submitted" | "sales_activity" => 1.5,
        "webinar_attended" | "email_bounced" => 1.0,
        "survey_answered" | "purchased" => 0.5,
        _ => 2.0,
    }
}
