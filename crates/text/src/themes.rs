//! Themes: comments' key phrases grouped across comments, with how often
//! they come up, how customers feel about them, and whether that is moving.
//!
//! # How phrases become themes
//!
//! 1. Each phrase of a comment (normalised by [`crate::phrases`]) gets its
//!    key, [`phrase_key`]: its words sorted, so "late delivery" and
//!    "delivery late" are one phrase. A comment counts once per key.
//! 2. An admin's [`ThemeRule`] sends a key (a phrase or a theme's key,
//!    normalised the same way) to the theme it names.
//! 3. Other keys fold into a bigger one that is part of them: a key folds
//!    into another when the other's words are all among its own, the other
//!    has at least two words and at least as many mentions (both periods
//!    together), so "late delivery again" joins "late delivery". Among
//!    several such keys the one with most mentions wins (then fewer words,
//!    then the alphabetically first). A single word never takes in longer
//!    phrases: "delivery" alone would swallow "late delivery" and
//!    "fast delivery", which say opposite things.
//! 4. A key that folded goes where the key it folded into goes; a key that
//!    did not is a theme's root. Its theme is named by its rule, or else by
//!    the form customers wrote most often ("late delivery").
//! 5. Themes with the same name (compared without case) are one theme: this
//!    is how a merge works (rules sending each phrase of theme A to B's
//!    name) and how a rename onto an existing name joins the two.
//!
//! A theme's `key` is the key with most mentions within it, which is what a
//! later rule names to rename or merge it. A theme is shown when it has at
//! least `min_mentions` mentions in either period, or when a rule pins it.
//! Its trend compares its share of the period's comments with the previous
//! period's by [`two_proportion_p_value`]: rising or falling only when the
//! p-value is below 0.05.

use std::collections::{BTreeMap, HashMap};

use rapport_domain::surveys::NpsGroup;
use serde::{Deserialize, Serialize};

use crate::phrases::phrase_key;
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
    pub phrase: String,
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

#[derive(Default)]
struct KeyInfo {
    words: usize,
    mentions: u64,
    /// How often each written form (word order as in the comment) came up.
    forms: BTreeMap<String, u64>,
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
    /// Member keys' ids, with their mentions.
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
    // Pass 1: intern the keys, count each key once per comment.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut keys: Vec<(String, KeyInfo)> = Vec::new();
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
                    let words = key.split(' ').count();
                    keys.push((key, KeyInfo { words, ..KeyInfo::default() }));
                    id
                }
            };
            if comment_keys[start..].contains(&id) {
                continue;
            }
            comment_keys.push(id);
            let info = &mut keys[id as usize].1;
            info.mentions += 1;
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
        let (ka, ia) = &keys[a as usize];
        let (kb, ib) = &keys[b as usize];
        ib.mentions.cmp(&ia.mentions).then(ia.words.cmp(&ib.words)).then(ka.cmp(kb))
    });
    let mut rank = vec![0usize; keys.len()];
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r;
    }
    // root[id]: the key it went to (itself for a root).
    let mut root: Vec<u32> = (0..keys.len() as u32).collect();
    for &id in &order {
        let (key, info) = &keys[id as usize];
        if rule_of.contains_key(key) || info.words < 3 {
            continue;
        }
        let words: Vec<&str> = key.split(' ').collect();
        if words.len() > 8 {
            continue;
        }
        let mut best: Option<u32> = None;
        for_each_part(&words, &mut |part| {
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
        let (root_key, root_info) = &keys[r];
        let rule = rule_of.get(root_key);
        let name = match rule {
            Some(rule) => rule.theme.trim().to_owned(),
            None => most_common_form(root_info),
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
        let (key, info) = &keys[id as usize];
        if group.members.is_empty() || info.mentions > group.key_mentions {
            group.key = key.clone();
            group.key_mentions = info.mentions;
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

    // Pass 4: count comments per theme, once each.
    let mut seen: Vec<usize> = Vec::new();
    for row in &rows {
        seen.clear();
        for &id in &comment_keys[row.start as usize..row.end as usize] {
            let g = group_of_key[id as usize];
            if !seen.contains(&g) {
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
        .filter(|g| g.pinned || g.current.max(g.previous) >= min_mentions.max(1))
        .map(|g| {
            let mut members = g.members;
            members.sort_by_key(|&id| rank[id as usize]);
            let phrases = members.iter().map(|&id| most_common_form(&keys[id as usize].1)).collect();
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
/// of at least two words.
fn for_each_part(words: &[&str], f: &mut impl FnMut(&str)) {
    let n = words.len();
    let mut part = String::new();
    for mask in 1u32..(1 << n) - 1 {
        if mask.count_ones() < 2 {
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
