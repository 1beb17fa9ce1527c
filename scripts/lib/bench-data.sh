# Shared by the benchmark scripts that need people in a database: the
# generated people CSV and the two custom fields it fills. Source it after
# setting CACHE (where generated files are kept) and BIN (the rapport binary).

# The file is made once and kept: every run reads the same bytes. Each row
# has an email, a phone, two tags, one of 5,000 companies and two custom
# fields (a choice and a number), as issue 14 asks. Prints its path.
people_csv() {
  local rows="$1" csv="$CACHE/people-company-custom-$1.csv"
  if [ ! -f "$csv" ]; then
    echo "generating $csv" >&2
    awk -v n="$rows" 'BEGIN {
      print "first_name,last_name,email,phone,job_title,lifecycle_stage,tags,company,cf.tier,cf.seats";
      split("lead prospect customer advocate churned", stages, " ");
      split("gold silver bronze", tiers, " ");
      for (i = 0; i < n; i++)
        printf "First%d,Last%d,person%d@example.com,+1 555 %07d,Engineer,%s,t%d;bench,Company %d,%s,%d\n", i, i % 977, i, i, stages[i % 5 + 1], i % 13, i % 5000, tiers[i % 3 + 1], i % 250;
    }' > "$csv.tmp"
    mv "$csv.tmp" "$csv"
  fi
  echo "$csv"
}

# The bench admin (bench@example.com) and the two custom fields the file
# fills, defined through the API of a server started for the purpose on a
# free port.
prepare_database() {
  local url="$1" port token pid
  echo "a-long-password" | "$BIN" --database-url "$url" user add --email bench@example.com --name Bench --role admin >/dev/null 2>&1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  token=$("$BIN" --database-url "$url" token create --user bench@example.com)
  "$BIN" --database-url "$url" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  for field in '{"entity_type":"person","key":"tier","label":"Tier","kind":"choice","choices":["gold","silver","bronze"]}' \
               '{"entity_type":"person","key":"seats","label":"Seats","kind":"number"}'; do
    curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "$field" "http://127.0.0.1:$port/api/v1/custom-fields" || { echo "could not define $field"; kill "$pid"; exit 1; }
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
