//! Customer feedback: surveys and their questions, the scales they are
//! scored on, and which answers count as unhappy.

use serde::{Deserialize, Serialize};

text_enum!(
    /// What a question asks for. NPS, CSAT and CES are the scored ones a
    /// survey is summarised by.
    QuestionKind {
        Nps => "nps" / "Net Promoter Score (0–10)",
        Csat => "csat" / "Satisfaction (1–5)",
        Ces => "ces" / "Effort (1–7)",
        Rating => "rating" / "Rating (1–5)",
        SingleChoice => "single_choice" / "One choice",
        MultipleChoice => "multiple_choice" / "Several choices",
        FreeText => "free_text" / "Free text",
    }
);

text_enum!(
    /// Where an NPS answer falls: 9–10 promote, 7–8 are passive, 0–6
    /// detract.
    NpsGroup { Promoter => "promoter" / "Promoter", Passive => "passive" / "Passive", Detractor => "detractor" / "Detractor" }
);

impl NpsGroup {
    pub fn of(score: u8) -> NpsGroup {
        match score {
            9.. => NpsGroup::Promoter,
            7..=8 => NpsGroup::Passive,
            _ => NpsGroup::Detractor,
        }
    }
}

impl QuestionKind {
    /// The lowest and highest score a scored question takes.
    pub fn scale(self) -> Option<(u8, u8)> {
        match self {
            QuestionKind::Nps => Some((0, 10)),
            QuestionKind::Csat | QuestionKind::Rating => Some((1, 5)),
            QuestionKind::Ces => Some((1, 7)),
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice | QuestionKind::FreeText => None,
        }
    }

    /// The three measures a survey is summarised by.
    pub fn is_headline(self) -> bool {
        matches!(self, QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces)
    }

    /// Whether a score marks an unhappy customer whose owner should follow
    /// up: NPS 0–6, CSAT 1–2, CES 1–3 (1 = very hard).
    pub fn is_detractor(self, score: u8) -> bool {
        match self {
            QuestionKind::Nps => NpsGroup::of(score) == NpsGroup::Detractor,
            QuestionKind::Csat => score <= 2,
            QuestionKind::Ces => score <= 3,
            _ => false,
        }
    }

    /// Whether a score counts as satisfied: CSAT 4–5, CES 5–7 (easy).
    pub fn is_satisfied(self, score: u8) -> bool {
        match self {
            QuestionKind::Csat | QuestionKind::Rating => score >= 4,
            QuestionKind::Ces => score >= 5,
            QuestionKind::Nps => score >= 9,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_groups_follow_the_published_cut_offs() {
        let groups: Vec<NpsGroup> = (0..=10).map(NpsGroup::of).collect();
        assert_eq!(groups[..7], [NpsGroup::Detractor; 7]);
        assert_eq!(groups[7..9], [NpsGroup::Passive; 2]);
        assert_eq!(groups[9..], [NpsGroup::Promoter; 2]);
    }

    #[test]
    fn detractors_are_the_hard_side_of_each_scale() {
        assert!(QuestionKind::Csat.is_detractor(2) && !QuestionKind::Csat.is_detractor(3));
        assert!(QuestionKind::Ces.is_detractor(3) && !QuestionKind::Ces.is_detractor(4));
        assert!(QuestionKind::Nps.is_detractor(6) && !QuestionKind::Nps.is_detractor(7));
        assert!(!QuestionKind::FreeText.is_detractor(0));
    }
}
