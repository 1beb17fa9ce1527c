//! Staff scorecards: what each staff member actually did with customers over
//! a period, as figures in five dimensions (responsiveness, follow-through,
//! proactivity, personal touch, outcomes), each with its definition, the
//! number of cases behind it, the team median, and a rank among colleagues
//! only when there are enough cases to mean something.
//!
//! The storage layer hands in one period's [`Facts`] (plain data, defined in
//! the domain); everything here is pure computation.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use rapport_domain::records::{ActivityKind, Channel, Direction};
pub use rapport_domain::style::{
    ANSWERED_WITHIN, AnswerFact, DealFact, Dimension, Facts, Figure, TaskFact, TicketFact, TouchFact, Unit,
};
use rapport_domain::surveys::{NpsGroup, QuestionKind};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// A figure on fewer cases than this is shown with its count but neither
/// ranked nor counted in a dimension or a team median.
pub const MIN_CASES: u64 = 5;

/// One figure's value and the number of cases behind it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Measure {
    pub value: Option<f64>,
    pub cases: u64,
}

impl Measure {
    /// Enough cases to rank and to count in a median.
    pub fn is_enough(&self) -> bool {
        self.value.is_some() && self.cases >= MIN_CASES
    }
}

/// One staff member's figures, in [`Figure::ALL`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Scorecard<S> {
    pub staff: S,
    pub measures: Vec<Measure>,
}

impl<S> Scorecard<S> {
    pub fn measure(&self, figure: Figure) -> Measure {
        self.measures[Figure::ALL.iter().position(|f| *f == figure).expect("every figure is listed")]
    }
}

fn hours(d: Duration) -> f64 {
    d.as_seconds_f64() / 3600.0
}

/// The median of `values` (sorted here), or `None` when empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

fn share(hits: usize, of: usize) -> Measure {
    Measure { value: (of > 0).then(|| hits as f64 * 100.0 / of as f64), cases: of as u64 }
}

fn median_of(values: Vec<f64>) -> Measure {
    Measure { cases: values.len() as u64, value: median(values) }
}

/// Whether a touch of this kind is on that preferred channel.
fn on_channel(kind: ActivityKind, channel: Channel) -> bool {
    matches!(
        (kind, channel),
        (ActivityKind::Call, Channel::Phone)
            | (ActivityKind::Email, Channel::Email)
            | (ActivityKind::Meeting, Channel::InPerson)
            | (ActivityKind::Message, Channel::Sms | Channel::Whatsapp)
    )
}

/// The scorecards of `staff` (in that order) from one period's facts.
pub fn scorecards<S, C>(facts: &Facts<S, C>, staff: &[S]) -> Vec<Scorecard<S>>
where
    S: Copy + Eq + Hash,
    C: Copy + Eq + Hash + Ord,
{
    staff.iter().map(|&s| scorecard(facts, s)).collect()
}

fn scorecard<S, C>(facts: &Facts<S, C>, staff: S) -> Scorecard<S>
where
    S: Copy + Eq + Hash,
    C: Copy + Eq + Hash + Ord,
{
    let tickets: Vec<&TicketFact<S>> = facts.tickets.iter().filter(|t| t.staff == staff).collect();
    let first_response = median_of(
        tickets
            .iter()
            .filter(|t| t.created_at >= facts.from)
            .filter_map(|t| t.first_responded_at.map(|at| hours(at - t.created_at)))
            .collect(),
    );
    let resolution = median_of(
        tickets
            .iter()
            .filter_map(|t| t.solved_at.filter(|at| *at >= facts.from).map(|at| (t, at)))
            .map(|(t, at)| hours(at - t.created_at - Duration::seconds(t.pending_seconds)).max(0.0))
            .collect(),
    );
    let sla: Vec<bool> = facts.sla.iter().filter(|(s, _)| *s == staff).map(|(_, met)| *met).collect();
    let sla_met = share(sla.iter().filter(|met| **met).count(), sla.len());

    let tasks: Vec<&TaskFact<S>> = facts.tasks.iter().filter(|t| t.staff == staff).collect();
    let on_time = tasks.iter().filter(|t| t.done_at.is_some_and(|d| d <= t.due_at)).count();
    let late = tasks.iter().filter(|t| t.done_at.is_some_and(|d| d > t.due_at)).count();
    let dropped = tasks.iter().filter(|t| t.done_at.is_none()).count();
    let cadences: Vec<bool> = facts.cadences.iter().filter(|(s, _)| *s == staff).map(|(_, kept)| *kept).collect();

    // Touches by customer, oldest first: whom each outbound touch answered.
    let mut by_customer: BTreeMap<C, Vec<&TouchFact<S, C>>> = BTreeMap::new();
    for touch in facts.touches.iter().filter(|t| t.staff == staff && t.kind != ActivityKind::Note) {
        by_customer.entry(touch.customer).or_default().push(touch);
    }
    let mut reply_hours = Vec::new();
    let (mut inbound, mut outbound, mut first) = (0usize, 0usize, 0usize);
    let (mut touches, mut with_preference, mut on_preferred) = (0usize, 0usize, 0usize);
    let mut kinds: HashSet<ActivityKind> = HashSet::new();
    let mut customers = 0usize;
    for list in by_customer.values_mut() {
        list.sort_by_key(|t| t.at);
        let mut last_inbound: Option<OffsetDateTime> = None;
        let mut waiting: Option<OffsetDateTime> = None;
        let mut touched = false;
        for touch in list.iter() {
            let in_period = touch.at >= facts.from;
            match touch.direction {
                Direction::Inbound => {
                    last_inbound = Some(touch.at);
                    if in_period {
                        inbound += 1;
                        waiting = waiting.or(Some(touch.at));
                    }
                }
                Direction::Outbound => {
                    if in_period {
                        outbound += 1;
                        if last_inbound.is_none_or(|at| touch.at - at > ANSWERED_WITHIN) {
                            first += 1;
                        }
                        if let Some(since) = waiting.take() {
                            reply_hours.push(hours(touch.at - since));
                        }
                    }
                }
                Direction::Internal => {}
            }
            if in_period {
                touched = true;
                touches += 1;
                kinds.insert(touch.kind);
                if let Some(channel) = touch.preferred {
                    with_preference += 1;
                    on_preferred += usize::from(on_channel(touch.kind, channel));
                }
            }
        }
        customers += usize::from(touched);
    }

    let answers: Vec<&AnswerFact<S>> = facts.answers.iter().filter(|a| a.staff == staff).collect();
    let scores = |kind: QuestionKind| -> Vec<u8> {
        answers.iter().filter(|a| a.kind == Some(kind)).filter_map(|a| a.score).collect()
    };
    let nps_scores = scores(QuestionKind::Nps);
    let nps = Measure {
        value: (!nps_scores.is_empty()).then(|| {
            let promoters = nps_scores.iter().filter(|s| NpsGroup::of(**s) == NpsGroup::Promoter).count();
            let detractors = nps_scores.iter().filter(|s| NpsGroup::of(**s) == NpsGroup::Detractor).count();
            (promoters as f64 - detractors as f64) * 100.0 / nps_scores.len() as f64
        }),
        cases: nps_scores.len() as u64,
    };
    let csat_scores = scores(QuestionKind::Csat);
    let csat = share(csat_scores.iter().filter(|s| QuestionKind::Csat.is_satisfied(**s)).count(), csat_scores.len());
    let sentiments: Vec<f64> = answers.iter().filter_map(|a| a.sentiment).collect();
    let sentiment = Measure {
        value: (!sentiments.is_empty()).then(|| sentiments.iter().sum::<f64>() / sentiments.len() as f64),
        cases: sentiments.len() as u64,
    };
    let deals: Vec<&DealFact<S>> = facts.deals.iter().filter(|d| d.staff == staff).collect();
    let won: Vec<f64> = deals.iter().filter(|d| d.won).map(|d| d.days_open).collect();
    let win_rate = share(won.len(), deals.len());
    let owned: Vec<bool> = facts.owned.iter().filter(|(s, _)| *s == staff).map(|(_, churned)| *churned).collect();

    let measures = Figure::ALL
        .iter()
        .map(|figure| match figure {
            Figure::FirstResponseHours => first_response,
            Figure::ResolutionHours => resolution,
            Figure::SlaMet => sla_met,
            Figure::InboundReplyHours => median_of(reply_hours.clone()),
            Figure::TasksOnTime => share(on_time, tasks.len()),
            Figure::TasksLate => share(late, tasks.len()),
            Figure::TasksDropped => share(dropped, tasks.len()),
            Figure::CadenceKept => share(cadences.iter().filter(|k| **k).count(), cadences.len()),
            Figure::OutboundShare => share(outbound, inbound + outbound),
            Figure::ReachedOutFirst => share(first, outbound),
            Figure::TouchesPerCustomer => {
                Measure { value: (customers > 0).then(|| touches as f64 / customers as f64), cases: customers as u64 }
            }
            Figure::ChannelVariety => {
                Measure { value: (customers > 0).then_some(kinds.len() as f64), cases: customers as u64 }
            }
            Figure::PreferredChannel => share(on_preferred, with_preference),
            Figure::Nps => nps,
            Figure::Csat => csat,
            Figure::Sentiment => sentiment,
            Figure::WinRate => win_rate,
            Figure::SalesCycleDays => median_of(won.clone()),
            Figure::ChurnedShare => share(owned.iter().filter(|c| **c).count(), owned.len()),
        })
        .collect();
    Scorecard { staff, measures }
}

/// Each figure's median over the scorecards with enough cases for it, in
/// [`Figure::ALL`] order.
pub fn medians<S>(cards: &[Scorecard<S>]) -> Vec<Measure> {
    Figure::ALL
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let values: Vec<f64> =
                cards.iter().map(|c| c.measures[i]).filter(Measure::is_enough).filter_map(|m| m.value).collect();
            Measure { cases: values.len() as u64, value: median(values) }
        })
        .collect()
}

/// Where a value stands among its colleagues': the percentile rank (0 the
/// worst, 100 the best; ties count half), among the scorecards with enough
/// cases for that figure, the card itself included.
pub fn percentile_rank<S>(cards: &[Scorecard<S>], card: &Scorecard<S>, figure: Figure) -> Option<f64> {
    let own = card.measure(figure);
    if !own.is_enough() {
        return None;
    }
    let own = own.value?;
    let peers: Vec<f64> =
        cards.iter().map(|c| c.measure(figure)).filter(Measure::is_enough).filter_map(|m| m.value).collect();
    let better = |a: f64, b: f64| if figure.lower_is_better() { a < b } else { a > b };
    let worse = peers.iter().filter(|p| better(own, **p)).count() as f64;
    let equal = peers.iter().filter(|p| **p == own).count() as f64;
    Some((worse + 0.5 * equal) / peers.len() as f64 * 100.0)
}

/// Each dimension's score for `card`, 0..100: the mean percentile rank of
/// its figures with enough cases, in [`Dimension::ALL`] order; `None` for a
/// dimension with no such figure.
pub fn dimension_scores<S>(cards: &[Scorecard<S>], card: &Scorecard<S>) -> [Option<f64>; 5] {
    Dimension::ALL.map(|dimension| {
        let ranks: Vec<f64> = Figure::ALL
            .iter()
            .filter(|f| f.dimension() == dimension)
            .filter_map(|f| percentile_rank(cards, card, *f))
            .collect();
        (!ranks.is_empty()).then(|| ranks.iter().sum::<f64>() / ranks.len() as f64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const FROM: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn at(day: u8, hour: u8) -> OffsetDateTime {
        FROM.replace_day(day).unwrap().replace_hour(hour).unwrap()
    }

    fn touch(
        staff: u8,
        customer: u8,
        at: OffsetDateTime,
        kind: ActivityKind,
        direction: Direction,
    ) -> TouchFact<u8, u8> {
        TouchFact { staff, customer, at, kind, direction, preferred: None }
    }

    #[test]
    fn ticket_and_task_figures_match_hand_counts() {
        let mut facts: Facts<u8, u8> = Facts::new(FROM);
        // Staff 1: first replies after 1, 2, 3 and 10 hours (median 2.5); one
        // ticket from before the period does not count for first response.
        for (arrived, replied) in [(1, 2), (2, 4), (3, 6), (4, 14)] {
            facts.tickets.push(TicketFact {
                staff: 1,
                created_at: at(2, arrived),
                first_responded_at: Some(at(2, replied)),
                solved_at: None,
                pending_seconds: 0,
            });
        }
        facts.tickets.push(TicketFact {
            staff: 1,
            created_at: FROM - Duration::days(3),
            first_responded_at: Some(FROM - Duration::days(2)),
            // Solved 72 h after arrival, 24 h of it pending: 48 h.
            solved_at: Some(FROM),
            pending_seconds: 24 * 3600,
        });
        facts.sla.extend([(1, true), (1, true), (1, false), (2, false)]);
        // Due on the 10th at noon: one on time, one late, one dropped, one exactly on time.
        let due = at(10, 12);
        for done in [Some(at(10, 11)), Some(at(11, 9)), None, Some(due)] {
            facts.tasks.push(TaskFact { staff: 1, due_at: due, done_at: done });
        }
        facts.cadences.extend([(1, true), (1, false), (1, true), (1, true)]);
        let card = &scorecards(&facts, &[1u8])[0];
        assert_eq!(card.measure(Figure::FirstResponseHours), Measure { value: Some(2.5), cases: 4 });
        assert_eq!(card.measure(Figure::ResolutionHours), Measure { value: Some(48.0), cases: 1 });
        assert_eq!(card.measure(Figure::SlaMet).value, Some(200.0 / 3.0));
        assert_eq!(card.measure(Figure::TasksOnTime), Measure { value: Some(50.0), cases: 4 });
        assert_eq!(card.measure(Figure::TasksLate).value, Some(25.0));
        assert_eq!(card.measure(Figure::TasksDropped).value, Some(25.0));
        assert_eq!(card.measure(Figure::CadenceKept).value, Some(75.0));
        assert_eq!(card.measure(Figure::WinRate), Measure { value: None, cases: 0 });
    }

    #[test]
    fn touches_tell_who_reached_out_first_and_how_fast_they_replied() {
        let mut facts: Facts<u8, u8> = Facts::new(FROM);
        use ActivityKind::*;
        use Direction::*;
        facts.touches.extend([
            // Customer 10 wrote just before the period; the call on the 2nd answers them.
            touch(1, 10, FROM - Duration::days(1), Email, Inbound),
            touch(1, 10, at(2, 9), Call, Outbound),
            // Customer 11: two messages in, one reply 5 hours after the first.
            touch(1, 11, at(5, 8), Message, Inbound),
            touch(1, 11, at(5, 10), Message, Inbound),
            touch(1, 11, at(5, 13), Email, Outbound),
            // Customer 12: reached out first, twice; a note is no touch.
            touch(1, 12, at(6, 9), Meeting, Outbound),
            touch(1, 12, at(20, 9), Email, Outbound),
            touch(1, 12, at(21, 9), Note, Internal),
            // Someone else's touch.
            touch(2, 12, at(7, 9), Call, Outbound),
        ]);
        facts.touches[1].preferred = Some(Channel::Phone);
        facts.touches[4].preferred = Some(Channel::Whatsapp);
        let card = &scorecards(&facts, &[1u8])[0];
        // 4 outbound of 6 in the period.
        assert_eq!(card.measure(Figure::OutboundShare), Measure { value: Some(400.0 / 6.0), cases: 6 });
        // The call answered customer 10 and the email customer 11; customer 12's two were first.
        assert_eq!(card.measure(Figure::ReachedOutFirst), Measure { value: Some(50.0), cases: 4 });
        assert_eq!(card.measure(Figure::InboundReplyHours), Measure { value: Some(5.0), cases: 1 });
        assert_eq!(card.measure(Figure::TouchesPerCustomer), Measure { value: Some(2.0), cases: 3 });
        assert_eq!(card.measure(Figure::ChannelVariety).value, Some(4.0));
        assert_eq!(card.measure(Figure::PreferredChannel), Measure { value: Some(50.0), cases: 2 });
    }

    #[test]
    fn outcomes_match_hand_counts() {
        let mut facts: Facts<u8, u8> = Facts::new(FROM);
        for score in [10, 9, 8, 6, 0] {
            facts.answers.push(AnswerFact {
                staff: 1,
                kind: Some(QuestionKind::Nps),
                score: Some(score),
                sentiment: None,
            });
        }
        for score in [5, 4, 2] {
            facts.answers.push(AnswerFact {
                staff: 1,
                kind: Some(QuestionKind::Csat),
                score: Some(score),
                sentiment: Some(0.5),
            });
        }
        facts.answers[0].sentiment = Some(-0.5);
        facts.deals.extend([
            DealFact { staff: 1, won: true, days_open: 10.0 },
            DealFact { staff: 1, won: true, days_open: 30.0 },
            DealFact { staff: 1, won: false, days_open: 5.0 },
        ]);
        facts.owned.extend([(1, true), (1, false), (1, false), (1, false)]);
        let card = &scorecards(&facts, &[1u8])[0];
        assert_eq!(card.measure(Figure::Nps), Measure { value: Some(0.0), cases: 5 });
        assert_eq!(card.measure(Figure::Csat).value, Some(200.0 / 3.0));
        assert_eq!(card.measure(Figure::Sentiment), Measure { value: Some(0.25), cases: 4 });
        assert_eq!(card.measure(Figure::WinRate).value, Some(200.0 / 3.0));
        assert_eq!(card.measure(Figure::SalesCycleDays), Measure { value: Some(20.0), cases: 2 });
        assert_eq!(card.measure(Figure::ChurnedShare).value, Some(25.0));
    }

    #[test]
    fn too_few_cases_are_neither_ranked_nor_in_the_median() {
        let mut facts: Facts<u8, u8> = Facts::new(FROM);
        // Staff 1..=3 answer in 1, 2 and 4 hours on 5 tickets each; staff 4 on 2 tickets only.
        for (staff, gap, count) in [(1u8, 1u8, 5), (2, 2, 5), (3, 4, 5), (4, 1, 2)] {
            for i in 0..count {
                facts.tickets.push(TicketFact {
                    staff,
                    created_at: at(3 + i, 8),
                    first_responded_at: Some(at(3 + i, 8 + gap)),
                    solved_at: None,
                    pending_seconds: 0,
                });
            }
        }
        let cards = scorecards(&facts, &[1u8, 2, 3, 4]);
        assert_eq!(medians(&cards)[0], Measure { value: Some(2.0), cases: 3 });
        // Lower is better: the fastest ranks highest.
        let ranks: Vec<Option<f64>> =
            cards.iter().map(|c| percentile_rank(&cards, c, Figure::FirstResponseHours)).collect();
        let rounded = |v: Option<f64>| v.map(|v| (v * 1000.0).round() / 1000.0);
        assert_eq!(
            ranks.into_iter().map(rounded).collect::<Vec<_>>(),
            vec![Some(83.333), Some(50.0), Some(16.667), None]
        );
        assert_eq!(rounded(dimension_scores(&cards, &cards[0])[0]), Some(83.333));
        assert_eq!(dimension_scores(&cards, &cards[3]), [None; 5], "too few cases to say anything");
    }

    #[test]
    fn every_figure_has_a_name_a_definition_and_a_dimension() {
        for figure in Figure::ALL {
            assert_eq!(Figure::parse(figure.as_str()), Some(figure));
            assert!(figure.definition().len() > 40, "{figure:?}");
        }
        for dimension in Dimension::ALL {
            assert!(Figure::ALL.iter().any(|f| f.dimension() == dimension), "{dimension:?}");
        }
    }
}
