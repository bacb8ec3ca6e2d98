"""The light rule set (benches/light/rules.funnel) as one hand-written DuckDB query with
the same semantics (docs/semantics.md), for the benchmark.

    python3 benches/duckdb_light.py DATA_DIR FORMAT OUT.csv [THREADS]

reads DATA_DIR/{contacts,events,accounts}.FORMAT (csv or parquet), evaluates every
contact-level definition at 2026-11-20T00:00:00Z and writes one row per contact (id,
then the columns `funnel run` writes) to OUT.csv. Prints the seconds it took.
"""

from duckdb_common import NOW, cap, half_life, main, r2, tier, upto, within

PAGE = "event = 'page_viewed'"
CLICK = "event = 'email_clicked'"
OPENED = "event = 'email_opened'"
# text comparisons are case-insensitive: both sides lower-cased
PRICING = "event = 'page_viewed' AND (starts_with(lower(url), '/pricing') OR starts_with(lower(url), '/demo'))"
HARD_BOUNCE = "event = 'email_bounced' AND kind = 'hard'"
DEMO_FORM = "event = 'form_submitted' AND lower(form) = lower('Demo-Request')"


def aggregates():
    """Every per-contact aggregate, as `expr AS name` over the events."""
    def count(name, cond, win):
        return f"count(*) FILTER (WHERE {cond} AND {win}) AS {name}"

    def points(name, cond, mult="1"):
        # a `per` rule's points before the factor: the sum of field x decay
        return (f"coalesce(sum({mult} * {half_life(30, NOW)}) FILTER (WHERE {cond} AND {upto(NOW)}), 0)"
                f" AS {name}")

    return [
        count("page_30", PAGE, within(30, NOW)),
        count("click_30", CLICK, within(30, NOW)),
        count("page_60", PAGE, within(60, NOW)),
        count("pricing_90", PRICING, within(90, NOW)),
        count("click_90", CLICK, within(90, NOW)),
        count("opened_60", OPENED, within(60, NOW)),
        count("click_60", CLICK, within(60, NOW)),
        f"max(ts) FILTER (WHERE {upto(NOW)}) AS last_seen_us",
        f"coalesce(sum(amount) FILTER (WHERE event = 'purchased' AND {within(90, NOW)}), 0) AS bought_90",
        count("hard_ever", HARD_BOUNCE, upto(NOW)),
        points("pts_page", PAGE),
        points("pts_pricing", PRICING),
        # a missing percent adds nothing
        points("pts_video", "event = 'video_watched'", "coalesce(percent, 0)"),
        points("pts_demo", DEMO_FORM),
        count("pricing_30", PRICING, within(30, NOW)),
        count("asset_90", "event = 'asset_downloaded'", within(90, NOW)),
        count("searched_30", "event = 'searched'", within(30, NOW)),
        count("opened_90", OPENED, within(90, NOW)),
    ]


def query(src):
    aggs = aggregates()
    agg_list = ",\n    ".join(aggs)
    names = [a.rsplit(" AS ", 1)[1] for a in aggs]
    zero = [n for n in names if n != "last_seen_us"]
    title = " OR ".join(f"contains(lower(job_title), '{t}')"
                        for t in ["director", "direktør", "head of", "chief"])
    raw = (f"{cap('3 * pts_page', 30)} + {cap('10 * pts_pricing', 40)} + 25 * pts_video"
           f" + 15 * pts_demo"
           f" + (CASE WHEN {title} THEN 10 ELSE 0 END)"
           f" + (CASE WHEN company_size BETWEEN 50 AND 1000 THEN 5 ELSE 0 END)"
           f" + (CASE WHEN hard_ever > 0 THEN -30 ELSE 0 END)")
    interest_tier = tier("interest", [("cold", 0, 20), ("warm", 21, 60), ("hot", 61, 100)])
    return f"""
WITH ev AS (
  SELECT contact_id, event, epoch_us("at") AS ts, url, kind, form, percent, amount
  FROM {src('events')}
),
agg AS (
  SELECT contact_id,
    {agg_list}
  FROM ev GROUP BY contact_id
),
base AS (
  -- contacts without events have no `agg` row: counts and sums are 0
  SELECT c.id, c.job_title, c.company_size, c.owner, c.account,
    a.last_seen_us,
    {", ".join(f"coalesce(a.{n}, 0) AS {n}" for n in zero)}
  FROM {src('contacts')} c LEFT JOIN agg a ON a.contact_id = c.id
),
scored AS (
  SELECT *, {r2(f"greatest(0, least(100, {raw}))")} AS interest FROM base
),
tiered AS (
  SELECT *, {interest_tier} AS interest_tier FROM scored
),
roles AS (
  SELECT *,
    CASE
      WHEN interest_tier IS NOT DISTINCT FROM 'hot' AND pricing_30 > 0 THEN 'buyer'
      WHEN asset_90 >= 2 OR searched_30 > 0 THEN 'researcher'
      WHEN coalesce(lower(owner) = lower('mette sørensen'), FALSE) AND opened_90 > 0 THEN 'owned'
    END AS role
  FROM tiered
),
acc AS (
  SELECT x.id AS account_id,
    {r2('coalesce(sum(r.interest), 0)')} AS account_interest,
    count(r.id) FILTER (WHERE r.role = 'buyer') AS buyers
  FROM {src('accounts')} x LEFT JOIN roles r ON r.account = x.id
  GROUP BY x.id
)
SELECT r.id,
  page_30 > 0 OR click_30 > 0 AS active_30d,
  page_60 >= 5 AS readers_60d,
  pricing_90 >= 2 AS pricing_curious,
  click_90 >= 3 AS frequent_clickers,
  opened_60 > 0 AND click_60 = 0 AS openers_only,
  strftime(make_timestamp(last_seen_us), '%Y-%m-%dT%H:%M:%SZ') AS last_seen,
  coalesce(({NOW} - last_seen_us) / 1e6 > 30 * 86400, FALSE) OR last_seen_us IS NULL AS inactive_30d,
  bought_90 > 5000 AS big_buyers_90d,
  hard_ever > 0 AS bounced,
  interest, interest_tier, role,
  role IS NOT DISTINCT FROM 'buyer' AS buyers,
  coalesce(a.account_interest >= 100 AND a.buyers >= 1, FALSE) AS at_hot_account
FROM roles r LEFT JOIN acc a ON a.account_id = r.account
ORDER BY r.id
"""


if __name__ == "__main__":
    main(query)
