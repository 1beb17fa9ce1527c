//! Staff scorecards over a period: every active staff member's figures
//! (`rapport-insights::scorecards`), each beside their team's median, their
//! rank among their team, and the same figure over the periods before, for
//! those the viewer may see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rapport_domain::records::{Team, User};
use rapport_domain::style_feedback::may_view_style;
use rapport_domain::{Actor, TeamId, UserId};
use rapport_insights::scorecards::{
    Dimension, Figure, MIN_CASES, Scorecard, Unit, dimension_scores, medians, percentile_rank, scorecards,
};
use rapport_storage::{ListQuery, StorageError, Store, UserFilter};
use serde::Serialize;
use time::OffsetDateTime;

/// How many periods before the chosen one the trends show.
pub const TREND_PERIODS: usize = 3;

/// Whose scorecards to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StyleScope {
    /// Everyone the viewer may see.
    #[default]
    Visible,
    User(UserId),
    Team(TeamId),
}

/// One figure on a scorecard.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FigureRow {
    pub figure: Figure,
    pub label: &'static str,
    pub dimension: Dimension,
    pub unit: Unit,
    pub lower_is_better: bool,
    pub definition: &'static str,
    /// `null` when there is no case at all.
    pub value: Option<f64>,
    pub cases: u64,
    /// At least [`MIN_CASES`] cases: only then is the figure ranked and in
    /// the team median.
    pub enough: bool,
    /// The median of the team members with enough cases.
    pub team_median: Option<f64>,
    /// Percentile rank in the team, 0 (worst) to 100 (best), when enough.
    pub rank: Option<f64>,
    /// The same figure in the [`TREND_PERIODS`] periods before, oldest
    /// first, then this period's.
    pub trend: Vec<Option<f64>>,
}

/// One dimension's score: the mean rank of its figures with enough cases.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DimensionRow {
    pub dimension: Dimension,
    pub label: &'static str,
    /// 0..100, `null` when none of its figures has enough cases.
    pub score: Option<f64>,
    /// The score in the periods before, oldest first, then this period's.
    pub trend: Vec<Option<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffScorecard {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub team_id: Option<TeamId>,
    pub team: Option<String>,
    pub dimensions: Vec<DimensionRow>,
    pub figures: Vec<FigureRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScorecardReport {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// When the figures were computed: the server keeps them up to
    /// [`SCORECARDS_KEPT`] (five minutes).
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// Figures on fewer cases are shown but neither ranked nor in medians.
    pub min_cases: u64,
    pub scorecards: Vec<StaffScorecard>,
}

/// Whether `viewer` may see `user`'s scorecard: their own; a manager their
/// team's; an admin everyone's.
pub fn may_see(viewer: &Actor, user: &User) -> bool {
    may_view_style(viewer, user.id, user.fields.team_id)
}

/// Every active staff member, in name order.
pub(crate) async fn active_staff(store: &Store) -> Result<Vec<User>, StorageError> {
    let filter = UserFilter { active: Some(true), ..Default::default() };
    let mut staff = Vec::new();
    let mut query = ListQuery { limit: Some(rapport_storage::MAX_LIMIT), ..Default::default() };
    loop {
        let page = store.list_users(&query, &filter).await?;
        staff.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    staff.sort_by(|a, b| a.fields.name.as_str().cmp(b.fields.name.as_str()));
    Ok(staff)
}

/// Each card's figures and dimension scores against its team (or, with no
/// team, against everyone without one).
struct Period {
    cards: Vec<Scorecard<UserId>>,
    /// Per card: team medians, ranks and dimension scores.
    medians: Vec<Vec<rapport_insights::scorecards::Measure>>,
    ranks: Vec<Vec<Option<f64>>>,
    dimensions: Vec<[Option<f64>; 5]>,
}

async fn period(
    store: &Store,
    staff: &[User],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Period, StorageError> {
    let facts = store.style_facts(from, to).await?;
    let ids: Vec<UserId> = staff.iter().map(|u| u.id).collect();
    let cards = scorecards(&facts, &ids);
    let mut by_team: HashMap<Option<TeamId>, Vec<Scorecard<UserId>>> = HashMap::new();
    for (user, card) in staff.iter().zip(&cards) {
        by_team.entry(user.fields.team_id).or_default().push(card.clone());
    }
    let team_medians: HashMap<Option<TeamId>, Vec<_>> =
        by_team.iter().map(|(team, cards)| (*team, medians(cards))).collect();
    let mut result = Period { cards: Vec::new(), medians: Vec::new(), ranks: Vec::new(), dimensions: Vec::new() };
    for (user, card) in staff.iter().zip(cards) {
        let team = &by_team[&user.fields.team_id];
        result.medians.push(team_medians[&user.fields.team_id].clone());
        result.ranks.push(Figure::ALL.iter().map(|f| percentile_rank(team, &card, *f)).collect());
        result.dimensions.push(dimension_scores(team, &card));
        result.cards.push(card);
    }
    Ok(result)
}

/// Every active staff member's scorecard over one period, whoever looks:
/// what [`ScorecardCache`] keeps. [`ScorecardSet::report`] picks what a
/// viewer may see.
pub struct ScorecardSet {
    from: OffsetDateTime,
    to: OffsetDateTime,
    computed_at: OffsetDateTime,
    /// The staff it was computed for, in name order.
    staff: Vec<User>,
    /// One per staff member, in the same order.
    cards: Vec<StaffScorecard>,
}

impl ScorecardSet {
    /// The scorecards of `[from, to)`, with trends over the
    /// [`TREND_PERIODS`] periods of the same length before.
    pub async fn compute(store: &Store, from: OffsetDateTime, to: OffsetDateTime) -> Result<Self, StorageError> {
        let staff = active_staff(store).await?;
        let teams: HashMap<TeamId, Team> = store.list_teams().await?.into_iter().map(|t| (t.id, t)).collect();
        let length = to - from;
        let mut periods = Vec::with_capacity(TREND_PERIODS + 1);
        for back in (0..=TREND_PERIODS as i32).rev() {
            periods.push(period(store, &staff, from - length * back, to - length * back).await?);
        }
        let current = periods.last().expect("the chosen period");
        let cards =
            staff.iter().enumerate().map(|(i, user)| staff_scorecard(user, &teams, i, current, &periods)).collect();
        Ok(ScorecardSet { from, to, computed_at: rapport_domain::records::now(), staff, cards })
    }

    /// The cards `viewer` may see within `scope`, judged by `staff` as it
    /// is now (a kept set may be minutes old: someone since moved to
    /// another team, or left, is shown as they are now, or not at all).
    pub fn report(&self, viewer: &Actor, scope: StyleScope, staff: &[User]) -> ScorecardReport {
        let now: HashMap<UserId, &User> = staff.iter().map(|u| (u.id, u)).collect();
        let scorecards = self
            .cards
            .iter()
            .filter(|card| {
                let Some(user) = now.get(&card.user_id) else { return false };
                let in_scope = match scope {
                    StyleScope::Visible => true,
                    StyleScope::User(id) => user.id == id,
                    StyleScope::Team(team) => user.fields.team_id == Some(team),
                };
                in_scope && may_see(viewer, user)
            })
            .cloned()
            .collect();
        ScorecardReport {
            from: self.from,
            to: self.to,
            computed_at: self.computed_at,
            min_cases: MIN_CASES,
            scorecards,
        }
    }
}

fn staff_scorecard(
    user: &User,
    teams: &HashMap<TeamId, Team>,
    i: usize,
    current: &Period,
    periods: &[Period],
) -> StaffScorecard {
    let card = &current.cards[i];
    let figures = Figure::ALL
        .iter()
        .enumerate()
        .map(|(f, figure)| {
            let measure = card.measures[f];
            FigureRow {
                figure: *figure,
                label: figure.label(),
                dimension: figure.dimension(),
                unit: figure.unit(),
                lower_is_better: figure.lower_is_better(),
                definition: figure.definition(),
                value: measure.value,
                cases: measure.cases,
                enough: measure.is_enough(),
                team_median: current.medians[i][f].value,
                rank: current.ranks[i][f],
                trend: periods.iter().map(|p| p.cards[i].measures[f].value).collect(),
            }
        })
        .collect();
    let dimensions = Dimension::ALL
        .iter()
        .enumerate()
        .map(|(d, dimension)| DimensionRow {
            dimension: *dimension,
            label: dimension.label(),
            score: current.dimensions[i][d],
            trend: periods.iter().map(|p| p.dimensions[i][d]).collect(),
        })
        .collect();
    StaffScorecard {
        user_id: user.id,
        name: user.fields.name.to_string(),
        email: user.fields.email.to_string(),
        team_id: user.fields.team_id,
        team: user.fields.team_id.and_then(|t| teams.get(&t)).map(|t| t.fields.name.to_string()),
        dimensions,
        figures,
    }
}

/// The scorecards of `[from, to)` that `viewer` may see within `scope`,
/// computed now (the CLI's way; the server keeps them in a [`ScorecardCache`]).
pub async fn scorecard_report(
    store: &Store,
    viewer: &Actor,
    scope: StyleScope,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<ScorecardReport, StorageError> {
    let set = ScorecardSet::compute(store, from, to).await?;
    Ok(set.report(viewer, scope, &set.staff))
}

/// How long a node keeps computed scorecards: a page then only renders
/// them. Scorecards describe weeks of work, so minutes-old figures say the
/// same; computing them reads every touch of the period and the three before.
pub const SCORECARDS_KEPT: Duration = Duration::from_secs(300);

/// Periods kept at once (the default 30 days, and a few chosen ones).
const PERIODS_KEPT: usize = 16;

type PeriodKey = (OffsetDateTime, OffsetDateTime);

/// One period's scorecards, computed once however many ask at the same time.
struct Slot {
    made: Instant,
    set: tokio::sync::OnceCell<Arc<ScorecardSet>>,
}

/// The scorecards a node computed lately, per period, each kept up to
/// [`SCORECARDS_KEPT`].
pub struct ScorecardCache {
    kept: Duration,
    slots: Mutex<HashMap<PeriodKey, Arc<Slot>>>,
}

impl Default for ScorecardCache {
    fn default() -> Self {
        ScorecardCache::new(SCORECARDS_KEPT)
    }
}

impl ScorecardCache {
    pub fn new(kept: Duration) -> Self {
        ScorecardCache { kept, slots: Mutex::default() }
    }

    /// What `viewer` may see of the period's scorecards, computed at most
    /// [`SCORECARDS_KEPT`] ago.
    pub async fn report(
        &self,
        store: &Store,
        viewer: &Actor,
        scope: StyleScope,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<ScorecardReport, StorageError> {
        let slot = self.slot((from, to));
        let set =
            slot.set.get_or_try_init(|| async { ScorecardSet::compute(store, from, to).await.map(Arc::new) }).await?;
        let staff = active_staff(store).await?;
        Ok(set.report(viewer, scope, &staff))
    }

    /// The period's slot: a fresh one in place of one kept too long, and the
    /// oldest dropped to make room.
    fn slot(&self, key: PeriodKey) -> Arc<Slot> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.retain(|_, slot| slot.made.elapsed() < self.kept);
        if !slots.contains_key(&key)
            && slots.len() >= PERIODS_KEPT
            && let Some(oldest) = slots.iter().min_by_key(|(_, slot)| slot.made).map(|(key, _)| *key)
        {
            slots.remove(&oldest);
        }
        let slot = slots.entry(key).or_insert_with(|| Arc::new(Slot { made: Instant::now(), set: Default::default() }));
        Arc::clone(slot)
    }
}
