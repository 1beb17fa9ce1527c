#!/usr/bin/env bash
# Scores a fixed set of sentences with the reference Python VADER package
# (vaderSentiment, in a throwaway venv) and writes
# crates/text/tests/data/vader_reference.json, which rapport-text's tests
# compare its own scores with (crates/text/tests/vader_reference.rs).
# Usage: scripts/vader-reference.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q vaderSentiment==3.3.2

"$WORK/venv/bin/python" - "$ROOT/crates/text/tests/data/vader_reference.json" <<'PY'
import json, sys
from importlib.metadata import version
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SENTENCES = [
    # plain
    "The delivery was late.",
    "The support team was friendly and helpful.",
    "The price is fair.",
    "It arrived on Tuesday.",
    "I ordered a blue jumper.",
    # negation
    "The support was not helpful at all.",
    "The product isn't bad.",
    "I didn't like the packaging.",
    "Never had a problem with this shop.",
    "The staff were not unfriendly.",
    "Not good, not terrible either.",
    # "but"
    "The product is great but the delivery was awful.",
    "The delivery was slow, but the support team sorted it out quickly.",
    "Cheap, but it broke after a week.",
    # capitals
    "The delivery was LATE again.",
    "GREAT service, thank you!",
    "I am VERY disappointed with the refund process.",
    # punctuation
    "Good value!",
    "Good value!!!",
    "Why is it so expensive???",
    "Fast delivery!!! Love it!!",
    # boosters and dampeners
    "The support was very good.",
    "The support was extremely good.",
    "The support was kind of good.",
    "The checkout was slightly confusing.",
    "The app is incredibly slow and barely works.",
    "The courier was somewhat rude.",
    # idioms and special cases
    "The new dashboard is the bomb.",
    "This update is the shit.",
    "Their customer service is bad ass.",
    "The price cut us some slack this year.",
    "Honestly, the onboarding was a breath of fresh air.",
    # least / without / degree
    "It was the least helpful reply I have had.",
    "Delivered without any problems.",
    # mixed and longer comments
    "Friendly support, reasonable price, but the parcel arrived two days late and the box was damaged.",
    "I waited three weeks for a refund and nobody answered my emails. Terrible.",
    "Excellent quality, quick delivery, would definitely recommend to friends.",
    "Meh. It does the job.",
    "The invoice was wrong twice; support fixed it eventually, thanks.",
    "Too expensive for what you get, and the delivery took forever.",
    "I love the product and the team behind it :)",
    "The app crashed, I lost my order, and I had to call support. Not happy!",
    # neutral / empty-ish
    "No comment.",
    "ok",
]

out = {"package": "vaderSentiment", "version": version("vaderSentiment"), "sentences": []}
analyzer = SentimentIntensityAnalyzer()
for s in SENTENCES:
    score = analyzer.polarity_scores(s)
    out["sentences"].append({"text": s, "compound": score["compound"], "pos": score["pos"], "neu": score["neu"], "neg": score["neg"]})
with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {len(SENTENCES)} sentences to {sys.argv[1]}")
PY
