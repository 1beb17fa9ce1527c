//! Themes: comments' key phrases grouped across comments, with how often
//! they come up, how customers feel about them, and whether that is moving.
//!
//! # How phrases become themes
//!
//! 1. Each phrase of a comment (normalised by [`crate::phrases`]) gets its
//!    key, [`phrase_key`]: its words sorted, so "late delivery" and
//!    "delivery late" are one phrase. A comment counts once per key.
//!    Mentions below are comments, the two periods together unless said.
//! 2. An admin's [`ThemeRule`] sends a key (a phrase or a theme's key,
//!    normalised the same way) to the theme it names.
//! 3. Other keys fold into a bigger key made of part of their words: "late
//!    delivery again" joins "late delivery" when that has at least as many
//!    mentions. The part must have two words or more, so that "delivery"
//!    alone does not swallow "late delivery" and "fast delivery", which say
//!    opposite things; only a phrase too rare to be shown on its own (fewer
//!    than `min_mentions` in either period) may join a single word: "steep
//!    price" joins "price". Among several parts the one with most mentions
//!    wins (then fewer words, then the alphabetically first).
//! 4. A key that folded goes where the key it folded into goes; a key that
//!    did not is a root. Its theme is named by its rule, or else by the form
//!    customers wrote most often ("late delivery").
//! 5. Themes with the same name (compared without case) are one theme: this
//!    is how a merge works (rules sending each phrase of theme A to B's
//!    name) and how a rename onto an existing name joins the two.
//! 6. A comment mentions the themes of its phrases' roots, and also a root of
//!    two words or more that is shown on its own when all its words are
//!    among the comment's phrases ("Deliveries are always late" gives
//!    "delivery" and "late": it mentions "late delivery"). Of these, a root
//!    whose words are all part of another one's counts no more: the comment
//!    is about the late delivery, not also about "delivery".
//!
//! A theme's `key` is the key with most mentions within it, which is what a
//! later rule names to rename or merge it. A theme is shown when it has at
//! least `min_mentions` mentions in either period, or when a rule pins it
//! (even with none). Its trend compares its share of the period's comments
//! with the previous period's by [`two_proportion_p_value`]: rising or
//! falling only when the p-value is below 0.05.

use std::collections::{BTreeMap, HashMap};

use rapport_domain::surveys::NpsGroup;
use serde::{Deserialize, Serialize};

use crate::phrases::{is_subset, phrase_key};
use crate::stats::{Estimate, nps, two_proportion_p_value};

/// The significance level below which a trend counts as rising or falling.
pub const TREND_ALPHA: f64 = 0.05;

/// Which of the two compared periods a comment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Current,
    Previous,
}

/// One comment as the theme grouping sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ThemeComment<'a> {
    /// Its normalised key phrases ([`crate::TextPipeline::key_phrases`]).
    pub phrases: &'a [String],
    /// Its compound sentiment score.
    pub sentiment: f64,
    /// The NPS score (0–10) its author gave in the same answer, if any.
    pub nps: Option<u8>,
    pub period: Period,
}

/// An admin's choice: the phrase (or a theme's key) `phrase` belongs to the
/// theme named `theme`; `pinned` keeps that theme shown even with few
/// mentions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ThemeRule {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub phrase: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub theme: String,
    #[serde(default)]
    pub pinned: bool,
}

/// Whether a theme's share moved by more than noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Rising,
    Falling,
    Steady,
}

impl TrendDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            TrendDirection::Rising => "rising",
            TrendDirection::Falling => "falling",
            TrendDirection::Steady => "steady",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrendDirection::Rising => "Rising",
            TrendDirection::Falling => "Falling",
            TrendDirection::Steady => "Steady",
        }
    }
}

/// A theme's share now against before.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trend {
    /// Share now − share before (shares in 0..1).
    pub change: f64,
    /// The two-sided p-value of the pooled two-proportion z-test.
    pub p_value: f64,
    pub direction: TrendDirection,
}

impl Trend {
    /// The trend of `now` mentions among `n_now` comments against `before`
    /// among `n_before`.
    pub fn between(now: u64, n_now: u64, before: u64, n_before: u64) -> Trend {
        let share_now = share(now, n_now);
        let share_before = share(before, n_before);
        let change = share_now - share_before;
        let p_value = two_proportion_p_value(now, n_now, before, n_before);
        let direction = if p_value < TREND_ALPHA && change > 0.0 {
            TrendDirection::Rising
        } else if p_value < TREND_ALPHA && change < 0.0 {
            TrendDirection::Falling
        } else {
            TrendDirection::Steady
        };
        Trend { change, p_value, direction }
    }
}

/// A theme over the current period, with the previous one for its trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Theme {
    /// The key (sorted words) of its most mentioned phrase: what a rule names
    /// to rename or merge it.
    pub key: String,
    /// What people see: the rule's name, or the phrase as customers most
    /// often wrote it.
    pub name: String,
    /// Its phrases as customers wrote them, most mentioned first.
    pub phrases: Vec<String>,
    /// Comments of the current period that mention it.
    pub mentions: u64,
    /// `mentions` ÷ the current period's comments (0..1).
    pub share: f64,
    /// The mean compound sentiment of those comments (0 without any).
    pub mean_sentiment: f64,
    /// The NPS of those comments that came with an NPS score.
    pub nps: Option<Estimate>,
    pub previous_mentions: u64,
    pub previous_share: f64,
    pub trend: Trend,
    pub pinned: bool,
}

fn share(k: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

/// The most phrases a theme lists.
pub const MAX_THEME_PHRASES: usize = 20;

struct KeyInfo {
    key: String,
    /// Its words, sorted and distinct.
    words: Vec<String>,
    current: u64,
    previous: u64,
    /// How often each written form (word order as in the comment) came up.
    forms: BTreeMap<String, u64>,
}

impl KeyInfo {
    fn total(&self) -> u64 {
        self.current + self.previous
    }
    fn peak(&self) -> u64 {
        self.current.max(self.previous)
    }
}

struct CommentRow {
    start: u32,
    end: u32,
    sentiment: f64,
    nps: Option<u8>,
    period: Period,
}

#[derive(Default)]
struct Group {
    key: String,
    key_mentions: u64,
    name: Option<String>,
    pinned: bool,
    /// Member keys' ids.
    members: Vec<u32>,
    current: u64,
    previous: u64,
    sentiment_sum: f64,
    nps_counts: [u64; 3],
}

/// Groups the comments' phrases into themes (see the module documentation),
/// most mentioned first.
pub fn themes<'a>(
    comments: impl IntoIterator<Item = ThemeComment<'a>>,
    rules: &[ThemeRule],
    min_mentions: u64,
) -> Vec<Theme> {
    let min_mentions = min_mentions.max(1);
    // Pass 1: intern the keys, count each key once per comment.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut keys: Vec<KeyInfo> = Vec::new();
    let mut rows: Vec<CommentRow> = Vec::new();
    let mut comment_keys: Vec<u32> = Vec::new();
    let (mut n_current, mut n_previous) = (0u64, 0u64);
    for comment in comments {
        match comment.period {
            Period::Current => n_current += 1,
            Period::Previous => n_previous += 1,
        }
        let start = comment_keys.len();
        for phrase in comment.phrases {
            let form = phrase.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            if form.is_empty() {
                continue;
            }
            let key = phrase_key(&form);
            let id = match ids.get(&key) {
                Some(&id) => id,
                None => {
                    let id = keys.len() as u32;
                    ids.insert(key.clone(), id);
                    let words = key.split(' ').map(str::to_owned).collect();
                    keys.push(KeyInfo { key, words, current: 0, previous: 0, forms: BTreeMap::new() });
                    id
                }
            };
            if comment_keys[start..].contains(&id) {
                continue;
            }
            comment_keys.push(id);
            let info = &mut keys[id as usize];
            match comment.period {
                Period::Current => info.current += 1,
                Period::Previous => info.previous += 1,
            }
            *info.forms.entry(form).or_default() += 1;
        }
        rows.push(CommentRow {
            start: start as u32,
            end: comment_keys.len() as u32,
            sentiment: comment.sentiment,
            nps: comment.nps,
            period: comment.period,
        });
    }

    // The rules, by key; a later rule for the same key wins.
    let mut rule_of: HashMap<String, &ThemeRule> = HashMap::new();
    for rule in rules {
        let key = phrase_key(&rule.phrase);
        if !key.is_empty() && !rule.theme.trim().is_empty() {
            rule_of.insert(key, rule);
        }
    }

    // Pass 2: fold keys into the bigger keys that are part of them.
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (ia, ib) = (&keys[a as usize], &keys[b as usize]);
        ib.total().cmp(&ia.total()).then(ia.words.len().cmp(&ib.words.len())).then(ia.key.cmp(&ib.key))
    });
    let mut rank = vec![0usize; keys.len()];
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r;
    }
    // root[id]: the key it went to (itself for a root).
    let mut root: Vec<u32> = (0..keys.len() as u32).collect();
    for &id in &order {
        let info = &keys[id as usize];
        if info.words.len() < 2 || info.words.len() > 8 || rule_of.contains_key(&info.key) {
            continue;
        }
        let smallest_part = if info.peak() < min_mentions { 1 } else { 2 };
        let mut best: Option<u32> = None;
        for_each_part(&info.words, smallest_part, &mut |part| {
            if let Some(&other) = ids.get(part)
                && rank[other as usize] < rank[id as usize]
                && best.is_none_or(|b| rank[other as usize] < rank[b as usize])
            {
                best = Some(other);
            }
        });
        if let Some(other) = best {
            root[id as usize] = root[other as usize];
        }
    }

    // Pass 3: each root's theme, by name.
    let mut groups: Vec<Group> = Vec::new();
    let mut group_by_name: HashMap<String, usize> = HashMap::new();
    let mut group_of_key: Vec<usize> = vec![usize::MAX; keys.len()];
    for &id in &order {
        let r = root[id as usize] as usize;
        let rule = rule_of.get(&keys[r].key);
        let name = match rule {
            Some(rule) => rule.theme.trim().to_owned(),
            None => most_common_form(&keys[r]),
        };
        let g = *group_by_name.entry(name.to_lowercase()).or_insert_with(|| {
            groups.push(Group::default());
            groups.len() - 1
        });
        let group = &mut groups[g];
        if rule.is_some() || group.name.is_none() {
            group.name = Some(name);
        }
        group.pinned |= rule.is_some_and(|rule| rule.pinned);
        let info = &keys[id as usize];
        if group.members.is_empty() || info.total() > group.key_mentions {
            group.key = info.key.clone();
            group.key_mentions = info.total();
        }
        group.members.push(id);
        group_of_key[id as usize] = g;
    }
    // Pinned rules whose phrases no comment used still show their theme.
    for rule in rules {
        let key = phrase_key(&rule.phrase);
        if !rule.pinned || key.is_empty() || rule.theme.trim().is_empty() || ids.contains_key(&key) {
            continue;
        }
        let name = rule.theme.trim().to_owned();
        let g = *group_by_name.entry(name.to_lowercase()).or_insert_with(|| {
            groups.push(Group { key: key.clone(), ..Group::default() });
            groups.len() - 1
        });
        groups[g].name.get_or_insert(name);
        groups[g].pinned = true;
    }

    // Roots of two words or more that stand on their own, by their first
    // word: a comment whose phrases hold all their words mentions them.
    let mut covering: HashMap<&str, Vec<u32>> = HashMap::new();
    for (id, info) in keys.iter().enumerate() {
        if root[id] == id as u32 && info.words.len() >= 2 && info.peak() >= min_mentions {
            covering.entry(info.words[0].as_str()).or_default().push(id as u32);
        }
    }

    // Pass 4: count comments per theme, once each, for the most specific
    // roots the comment supports.
    let mut roots: Vec<u32> = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for row in &rows {
        roots.clear();
        words.clear();
        for &id in &comment_keys[row.start as usize..row.end as usize] {
            let r = root[id as usize];
            if !roots.contains(&r) {
                roots.push(r);
            }
            words.extend(keys[id as usize].words.iter().map(String::as_str));
        }
        words.sort_unstable();
        words.dedup();
        for word in &words {
            for &candidate in covering.get(word).map(Vec::as_slice).unwrap_or_default() {
                if !roots.contains(&candidate) && is_subset(&keys[candidate as usize].words, &words) {
                    roots.push(candidate);
                }
            }
        }
        seen.clear();
        for &r in &roots {
            let part = &keys[r as usize].words;
            let less_specific = roots.iter().any(|&other| {
                let whole = &keys[other as usize].words;
                other != r && whole.len() > part.len() && is_subset(part, whole)
            });
            let g = group_of_key[r as usize];
            if !less_specific && !seen.contains(&g) {
                seen.push(g);
            }
        }
        for &g in &seen {
            let group = &mut groups[g];
            match row.period {
                Period::Previous => group.previous += 1,
                Period::Current => {
                    group.current += 1;
                    group.sentiment_sum += row.sentiment;
                    if let Some(score) = row.nps {
                        let slot = match NpsGroup::of(score) {
                            NpsGroup::Promoter => 0,
                            NpsGroup::Passive => 1,
                            NpsGroup::Detractor => 2,
                        };
                        group.nps_counts[slot] += 1;
                    }
                }
            }
        }
    }

    let mut out: Vec<Theme> = groups
        .into_iter()
        .filter(|g| g.pinned || g.current.max(g.previous) >= min_mentions)
        .map(|g| {
            let mut members = g.members;
            members.sort_by_key(|&id| rank[id as usize]);
            let phrases =
                members.iter().take(MAX_THEME_PHRASES).map(|&id| most_common_form(&keys[id as usize])).collect();
            let [promoters, passives, detractors] = g.nps_counts;
            Theme {
                name: g.name.unwrap_or_else(|| g.key.clone()),
                key: g.key,
                phrases,
                mentions: g.current,
                share: share(g.current, n_current),
                mean_sentiment: if g.current == 0 { 0.0 } else { g.sentiment_sum / g.current as f64 },
                nps: nps(promoters, passives, detractors),
                previous_mentions: g.previous,
                previous_share: share(g.previous, n_previous),
                trend: Trend::between(g.current, n_current, g.previous, n_previous),
                pinned: g.pinned,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.mentions.cmp(&a.mentions).then(b.previous_mentions.cmp(&a.previous_mentions)).then(a.key.cmp(&b.key))
    });
    out
}

/// The written form customers used most (ties: the alphabetically first).
fn most_common_form(info: &KeyInfo) -> String {
    let mut best: Option<(&String, u64)> = None;
    for (form, &count) in &info.forms {
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((form, count));
        }
    }
    best.map(|(form, _)| form.clone()).unwrap_or_default()
}

/// Calls `f` with the key of every proper part of `words` (sorted, distinct)
/// of at least `smallest` words.
fn for_each_part(words: &[String], smallest: u32, f: &mut impl FnMut(&str)) {
    let n = words.len();
    let mut part = String::new();
    for mask in 1u32..(1 << n) - 1 {
        if mask.count_ones() < smallest {
            continue;
        }
        part.clear();
        for (i, word) in words.iter().enumerate() {
            if mask & (1 << i) != 0 {
                if !part.is_empty() {
                    part.push(' ');
                }
                part.push_str(word);
            }
        }
        f(&part);
    }
}
