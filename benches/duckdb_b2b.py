"""The example rule set (examples/b2b/rules.funnel + scores.funnel) as one hand-written
DuckDB query with the same semantics (docs/semantics.md), for the benchmark.

    python3 benches/duckdb_b2b.py DATA_DIR FORMAT OUT.csv [THREADS]

reads DATA_DIR/{contacts,events,accounts,changes}.FORMAT (csv or parquet), evaluates
every contact-level definition at 2026-11-20T00:00:00Z and writes one row per contact
(id, then the columns `funnel run` writes) to OUT.csv. Prints the seconds it took.
"""

from duckdb_common import (DAY, NOW, US, WEEK, between, cap, half_life, main, r2, step, tier,
                           upto, within)

M30 = NOW - 30 * DAY
M60 = NOW - 60 * DAY
Y2026 = 1767225600 * US  # 2026-01-01
APR2026 = 1775001600 * US  # 2026-04-01
Y2025 = 1735689600 * US  # 2025-01-01


SIGNALS = {
    "page": "event = 'page_viewed'",
    "click": "event = 'email_clicked'",
    "searched": "event = 'searched'",
    "form": "event = 'form_submitted'",
    "asset": "event = 'asset_downloaded'",
    "sent": "event = 'email_sent'",
    "opened": "event = 'email_opened'",
    "video": "event = 'video_watched'",
    "webinar": "event = 'webinar_attended'",
    "social": "event = 'social_engaged'",
    "sales": "event = 'sales_activity'",
    "service_search": "event = 'searched' AND (contains(lower(term), 'service') OR contains(lower(term), 'consulting') OR contains(lower(term), 'tjeneste') OR contains(lower(term), 'þjónusta'))",
    "service_click": "event = 'email_clicked' AND contains(lower(link), '/service')",
    "service_visit": "event = 'page_viewed' AND starts_with(lower(url), '/service')",
    "blog": "event = 'page_viewed' AND starts_with(lower(url), '/blog')",
    "soft_bounce": "event = 'email_bounced' AND kind = 'soft'",
    "hard_bounce": "event = 'email_bounced' AND kind = 'hard'",
    "readiness_page": "event = 'page_viewed' AND (starts_with(lower(url), '/pricing') OR starts_with(lower(url), '/demo') OR starts_with(lower(url), '/compare') OR starts_with(lower(url), '/contact-sales'))",
    "demo_request": "event = 'form_submitted' AND lower(form) = 'demo-request'",
    "whitepaper": "event = 'asset_downloaded' AND asset_type = 'whitepaper'",
    "demo_video": "event = 'video_watched' AND starts_with(lower(video), 'product-demo')",
    "crm_click": "event = 'email_clicked' AND contains(lower(link), '/product/crm')",
}

for product, terms in {
    "crm": ["crm", "pipeline", "salgsstyring"],
    "email": ["newsletter", "email marketing", "nyhedsbrev"],
    "analytics": ["dashboard", "analytics", "greining"],
}.items():
    SIGNALS[f"{product}_page"] = f"event = 'page_viewed' AND starts_with(lower(url), '/product/{product}')"
    SIGNALS[f"{product}_search"] = "event = 'searched' AND (" + " OR ".join(
        f"contains(lower(term), '{t}')" for t in terms) + ")"
    SIGNALS[f"{product}_link"] = f"event = 'email_clicked' AND contains(lower(link), '/product/{product}')"


def aggregates():
    """Every per-contact aggregate, as `expr AS name` over the events."""
    out = []

    def count(name, sig, win):
        out.append(f"count(*) FILTER (WHERE {SIGNALS[sig]} AND {win}) AS {name}")

    def points(name, sig, factor, m, mult="1"):
        out.append(f"coalesce(sum({mult} * {factor}) FILTER (WHERE {SIGNALS[sig]} AND {upto(m)}), 0) AS {name}")

    count("service_search_90", "service_search", within(90, NOW))
    count("service_click_30", "service_click", within(30, NOW))
    count("service_visit_30", "service_visit", within(30, NOW))
    count("hard_bounce_ever", "hard_bounce", upto(NOW))
    count("soft_bounce_ever", "soft_bounce", upto(NOW))
    count("crm_click_90", "crm_click", within(90, NOW))
    count("click_90", "click", within(90, NOW))
    out.append(f"max(ts) FILTER (WHERE {upto(NOW)}) AS last_interaction_us")
    for sig in ["page", "click", "searched", "form", "asset"]:
        count(f"{sig}_60", sig, within(60, NOW))
    count("sent_60", "sent", within(60, NOW))
    count("page_90_30", "page", between(NOW - 90 * DAY, NOW - 30 * DAY, NOW))
    count("blog_120_30", "blog", between(NOW - 120 * DAY, NOW - 30 * DAY, NOW))
    count("blog_30", "blog", within(30, NOW))
    count("blog_7", "blog", within(7, NOW))
    count("blog_37_7", "blog", between(NOW - 37 * DAY, NOW - 7 * DAY, NOW))
    out.append(f"coalesce(sum(amount) FILTER (WHERE event = 'purchased' AND ts >= {Y2026} AND {upto(NOW)}), 0) AS purchased_2026")
    count("q1_crm", "sales", "FALSE")  # placeholder replaced below
    out.pop()
    out.append(f"count(*) FILTER (WHERE event = 'purchased' AND product = 'crm' AND ts >= {Y2026} AND ts < {APR2026}) AS q1_crm")
    out.append(f"count(*) FILTER (WHERE event = 'sales_activity' AND outcome = 'follow_up' AND {within(30, NOW)}) AS follow_up_30")
    out.append(f"count(*) FILTER (WHERE event = 'sales_activity' AND outcome = 'reached' AND {within(30, NOW)}) AS reached_30")
    out.append(f"count(*) FILTER (WHERE event = 'sales_activity' AND kind = 'call' AND {within(14, NOW)}) AS call_14")
    out.append(f"count(*) FILTER (WHERE event = 'survey_answered' AND score >= 9 AND ts >= {Y2026} AND {upto(NOW)}) AS promoter")
    count("readiness_30", "readiness_page", within(30, NOW))
    # periods: 0 = [now-1w, now], k = [now-(k+1)w, now-kw)
    period = f"(CASE WHEN ts = {NOW} THEN 0 ELSE ceil(({NOW} - ts) / {WEEK}) - 1 END)"
    out.append(f"count(DISTINCT {period}) FILTER (WHERE {SIGNALS['blog']} AND ts >= {NOW - 4 * WEEK} AND {upto(NOW)}) AS blog_weeks")
    out.append(f"count(DISTINCT {period}) FILTER (WHERE {SIGNALS['social']} AND ts >= {NOW - 4 * WEEK} AND {upto(NOW)}) AS social_weeks")
    out.append(f"count(DISTINCT {period}) FILTER (WHERE {SIGNALS['social']} AND action = 'post' AND network IN ('facebook', 'twitter', 'blog') AND ts >= {NOW - 4 * WEEK} AND {upto(NOW)}) AS spark_weeks")
    out.append(f"count(*) FILTER (WHERE event = 'asset_downloaded' AND asset_type = 'case_study' AND {within(90, NOW)}) AS case_study_90")
    count("asset_90", "asset", within(90, NOW))
    out.append(f"count(*) FILTER (WHERE {SIGNALS['social']} AND action IN ('comment', 'share') AND network IN ('twitter', 'linkedin') AND {within(90, NOW)}) AS mingle_90")
    out.append(f"count(*) FILTER (WHERE {SIGNALS['social']} AND action IN ('comment', 'share') AND network IN ('facebook', 'youtube') AND {within(90, NOW)}) AS clique_90")
    out.append(f"count(*) FILTER (WHERE {SIGNALS['social']} AND action = 'view' AND {within(90, NOW)}) AS look_90")
    count("social_180", "social", within(180, NOW))
    count("social_ever", "social", upto(NOW))
    # sales_ready at now, 30d ago, 60d ago
    for tag, m in [("0", NOW), ("30", M30), ("60", M60)]:
        f = half_life(90, m)
        points(f"sr_white_{tag}", "whitepaper", f, m)
        points(f"sr_ready_{tag}", "readiness_page", f, m)
        points(f"sr_video_{tag}", "demo_video", f, m, "coalesce(percent, 0)")
        points(f"sr_click_{tag}", "click", f, m)
        points(f"sr_demo_{tag}", "demo_request", f, m)
        points(f"sr_open_{tag}", "opened", f, m)
        count(f"sr_page30_{tag}", "page", within(30, m))
        count(f"sr_click30_{tag}", "click", within(30, m))
        count(f"sr_hard_{tag}", "hard_bounce", upto(m))
    for product in ["crm", "email", "analytics"]:
        f = step(25, 30, NOW)
        points(f"{product}_p", f"{product}_page", f, NOW)
        points(f"{product}_s", f"{product}_search", f, NOW)
        points(f"{product}_l", f"{product}_link", f, NOW)
    f = half_life(60, NOW)
    out.append(f"coalesce(sum({f}) FILTER (WHERE event = 'page_viewed' AND seconds >= 30 AND {upto(NOW)}), 0) AS en_page")
    points("en_search", "searched", f, NOW)
    points("en_click", "click", f, NOW)
    points("en_asset", "asset", f, NOW)
    out.append(f"coalesce(sum({f}) FILTER (WHERE event = 'webinar_attended' AND minutes >= 20 AND {upto(NOW)}), 0) AS en_webinar")
    points("en_video", "video", f, NOW, "coalesce(percent, 0)")
    return out


# tiers readiness of sales_ready
READINESS = [("low", 0, 30), ("middle", 31, 75), ("high", 76, 100)]


def sales_ready(tag):
    t = tag
    raw = (f"{cap(f'15 * sr_white_{t}', 45)} + {cap(f'4 * sr_ready_{t}', 32)} + 20 * sr_video_{t}"
           f" + {cap(f'5 * sr_click_{t}', 25)} + 30 * sr_demo_{t} + {cap(f'1 * sr_open_{t}', 3)}"
           f" + (CASE WHEN sr_page30_{t} = 0 AND sr_click30_{t} = 0 THEN -10 ELSE 0 END)"
           f" + (CASE WHEN sr_hard_{t} >= 1 THEN -50 ELSE 0 END)")
    return r2(f"greatest(0, least(100, {raw}))")


def interest(p):
    raw = f"{cap(f'10 * {p}_p', 50)} + 15 * {p}_s + 20 * {p}_l"
    return r2(f"greatest(0, least(100, {raw}))")


def query(src):
    aggs = ",\n    ".join(aggregates())
    fit = r2("greatest(0, least(50, "
             "(CASE WHEN regexp_matches(job_title, '(?i)\\b(chief|ceo|cfo|cto|cmo|director|head of|vp)\\b') THEN 20 ELSE 0 END)"
             " + (CASE WHEN company_size BETWEEN 200 AND 5000 THEN 15 ELSE 0 END)"
             " + (CASE WHEN region IN ('emea', 'amer') THEN 10 ELSE 0 END)"
             " + (CASE WHEN NOT existing_client THEN 5 ELSE 0 END)))")
    engagement = r2("greatest(0, least(100, "
                    f"{cap(f'2 * en_page + 5 * en_search', 40)} + {cap('3 * en_click', 20)}"
                    f" + {cap('10 * en_asset + 8 * en_webinar + 10 * en_video', 40)}))")
    return f"""
WITH ev AS (
  SELECT contact_id, event, epoch_us("at") AS ts, term, link, url, kind, form, asset_type,
         video, percent, seconds, minutes, score, network, action, amount, product, outcome
  FROM {src('events')}
),
agg AS (
  SELECT contact_id,
    {aggs}
  FROM ev GROUP BY contact_id
),
ch AS (
  SELECT contact_id, attribute, value, epoch_us("at") AS ts,
         lag(value) OVER (PARTITION BY contact_id, attribute ORDER BY epoch_us("at")) AS prev
  FROM {src('changes')}
),
hist AS (
  SELECT contact_id,
    arg_max(value, ts) FILTER (WHERE attribute = 'lead_stage' AND ts <= {NOW}) AS ls_now,
    arg_max(value, ts) FILTER (WHERE attribute = 'lead_stage' AND ts <= {NOW - 90 * DAY}) AS ls_90,
    count(*) FILTER (WHERE attribute = 'lead_stage') AS ls_log,
    arg_max(value, ts) FILTER (WHERE attribute = 'opportunity_stage' AND ts <= {NOW}) AS os_now,
    count(*) FILTER (WHERE attribute = 'opportunity_stage') AS os_log,
    count(*) FILTER (WHERE attribute = 'lead_stage' AND value = 'mql' AND ts >= {NOW - 90 * DAY} AND ts <= {NOW}) AS mql_in_90,
    count(*) FILTER (WHERE attribute = 'lead_stage' AND value = 'sql' AND ts >= {M30} AND ts <= {NOW}) AS to_sql_30,
    count(*) FILTER (WHERE attribute = 'lead_stage' AND value = 'sql' AND prev = 'lead' AND ts >= {NOW - 90 * DAY} AND ts <= {NOW}) AS lead_to_sql_90,
    count(*) FILTER (WHERE attribute = 'opportunity_stage' AND value = 'negotiation' AND ts >= {M30} AND ts <= {NOW}) AS to_neg_30
  FROM ch GROUP BY contact_id
),
base AS (
  SELECT c.id, c.job_title, c.company_size, c.region, c.existing_client, c.owner, c.account,
         c.lifetime_value, c.age, c.income,
         epoch_us(CAST(c.last_purchase AS TIMESTAMP)) AS last_purchase_us,
         CASE WHEN coalesce(h.ls_log, 0) = 0 THEN c.lead_stage ELSE h.ls_now END AS lead_stage,
         CASE WHEN coalesce(h.ls_log, 0) = 0 THEN c.lead_stage ELSE h.ls_90 END AS lead_stage_90,
         CASE WHEN coalesce(h.os_log, 0) = 0 THEN c.opportunity_stage ELSE h.os_now END AS opportunity_stage,
         coalesce(h.mql_in_90, 0) AS mql_in_90, coalesce(h.to_sql_30, 0) AS to_sql_30,
         coalesce(h.lead_to_sql_90, 0) AS lead_to_sql_90, coalesce(h.to_neg_30, 0) AS to_neg_30,
         a.* EXCLUDE (contact_id)
  FROM {src('contacts')} c
  LEFT JOIN agg a ON a.contact_id = c.id
  LEFT JOIN hist h ON h.contact_id = c.id
),
z AS (
  -- contacts without events have no `agg` row: counts and sums are 0
  SELECT * REPLACE (
    {", ".join(f"coalesce({c}, 0) AS {c}" for c in agg_zero_columns())}
  ) FROM base
),
scores AS (
  SELECT *,
    {sales_ready('0')} AS sales_ready,
    {sales_ready('30')} AS sales_ready_30,
    {sales_ready('60')} AS sales_ready_60,
    {interest('crm')} AS crm_interest,
    {interest('email')} AS email_interest,
    {interest('analytics')} AS analytics_interest,
    {fit} AS fit,
    {engagement} AS engagement
  FROM z
),
s2 AS (
  SELECT *, {r2('greatest(0, least(150, fit + engagement))')} AS lead_quality,
    {tier('sales_ready', READINESS)} AS readiness,
    make_timestamp(last_interaction_us) AS last_interaction,
    (service_search_90 > 0 OR service_click_30 > 0 OR service_visit_30 > 0) AS service_interest,
    CASE
      WHEN regexp_matches(job_title, '(?i)\\b(chief|ceo|cfo|cto|director|vp|direktør|forstjóri)\\b') OR case_study_90 > 0 THEN 'decision_maker'
      WHEN social_weeks >= 3 OR blog_30 >= 5 THEN 'champion'
      WHEN regexp_matches(job_title, '(?i)(analyst|specialist|coordinator|assistant|konsulent)') OR asset_90 >= 2 THEN 'info_gatherer'
    END AS buying_role
  FROM scores
),
s3 AS (
  SELECT *,
    CASE
      WHEN readiness = 'high' AND lead_stage IN ('sql', 'opportunity') THEN 'ready_to_buy'
      WHEN readiness = 'middle' OR lead_stage = 'mql' THEN 'evaluating'
      WHEN readiness = 'low' THEN 'just_browsing'
    END AS journey,
    CASE
      WHEN age BETWEEN 18 AND 30 AND spark_weeks >= 3 THEN 'sparks'
      WHEN age BETWEEN 18 AND 35 AND income >= 80000 AND mingle_90 > 0 THEN 'mix_n_minglers'
      WHEN age BETWEEN 40 AND 55 AND income >= 80000 AND clique_90 > 0 THEN 'cliquers'
      WHEN age BETWEEN 31 AND 45 AND income >= 80000 AND look_90 > 0 THEN 'onlookers'
      WHEN age BETWEEN 31 AND 45 AND income BETWEEN 50000 AND 79999 AND social_180 > 0 THEN 'newbies'
      WHEN age >= 55 AND social_ever = 0 THEN 'no_shows'
    END AS social_persona,
    row_number() OVER (ORDER BY sales_ready - sales_ready_30 DESC, id) <= 50 AS top_risers,
    row_number() OVER (ORDER BY sales_ready DESC, id) <= 100 AS top_scores
  FROM s2
),
acc AS (
  SELECT x.id AS account_id, x.tier, x.industry,
    {r2('coalesce(sum(s.sales_ready), 0)')} AS committee,
    count(s.id) FILTER (WHERE s.buying_role = 'decision_maker') AS deciders
  FROM {src('accounts')} x LEFT JOIN s3 s ON s.account = x.id
  GROUP BY x.id, x.tier, x.industry
)
SELECT s.id,
  service_interest,
  service_interest AND hard_bounce_ever = 0 AS service_campaign,
  hard_bounce_ever > 0 AS hard_bounced,
  soft_bounce_ever >= 4 AND hard_bounce_ever = 0 AS soft_bounced_often,
  crm_click_90 > 0 AS crm_clickers,
  strftime(last_interaction, '%Y-%m-%dT%H:%M:%SZ') AS last_interaction,
  page_60 = 0 AND click_60 = 0 AND searched_60 = 0 AND form_60 = 0 AND asset_60 = 0 AS no_action_60d,
  sent_60 = 0 AS no_marketing_60d,
  coalesce(({NOW} - last_interaction_us) / 1e6 > 14 * 86400, FALSE) AND page_90_30 >= 3 AS gone_quiet,
  blog_120_30 > 0 AND blog_30 = 0 AS stopped_reading,
  blog_7 > 0 AND blog_37_7 = 0 AS came_back,
  coalesce(lead_stage IN ('lead', 'mql'), FALSE) AND sales_ready = 0 AS unscored,
  readiness IS NOT DISTINCT FROM 'high' AND hard_bounce_ever = 0 AS sales_ready_leads,
  coalesce(readiness = 'low' AND lead_stage IN ('lead', 'mql'), FALSE) AS low_scores,
  top_risers, top_scores,
  sales_ready < sales_ready_60 AS falling,
  coalesce(sales_ready <= sales_ready_60 AND lead_stage IN ('lead', 'mql'), FALSE) AS cold,
  crm_interest >= 50 AND NOT existing_client AS crm_prospects,
  email_interest >= 50 AND NOT existing_client AS email_prospects,
  analytics_interest >= 50 AND NOT existing_client AS analytics_prospects,
  lead_quality >= 90 AND fit >= 25 AS qualified,
  coalesce(last_purchase_us >= {NOW - 365 * DAY} AND last_purchase_us <= {NOW}, FALSE) AS recent_buyers,
  coalesce(existing_client AND last_purchase_us < {Y2025}, FALSE) AS lapsed_customers,
  coalesce(lifetime_value >= 50000, FALSE) OR purchased_2026 > 20000 AS big_spenders,
  q1_crm > 0 AS q1_crm_buyers,
  coalesce(lead_stage = 'mql', FALSE) AS mqls,
  coalesce(lead_stage_90 = 'mql', FALSE) OR mql_in_90 > 0 AS were_mql,
  to_sql_30 > 0 AS became_sql,
  lead_to_sql_90 > 0 AS skipped_mql,
  coalesce(opportunity_stage IN ('discovery', 'proposal', 'negotiation'), FALSE) AS open_deals,
  to_neg_30 > 0 AS to_negotiation,
  coalesce(lower(owner) = lower('Mette Sørensen') AND lead_stage IN ('lead', 'mql', 'sql'), FALSE) AS mettes_leads,
  follow_up_30 > 0 AND reached_30 = 0 AS awaiting_follow_up,
  readiness IS NOT DISTINCT FROM 'high' AND call_14 = 0 AS hot_not_called,
  promoter > 0 AS promoters,
  readiness_30 >= 3 AS pricing_regulars,
  blog_weeks >= 3 AS weekly_readers,
  click_90 <= 2 AND hard_bounce_ever = 0 AS seldom_clickers,
  buying_role IS NOT DISTINCT FROM 'decision_maker' AS decision_makers,
  buying_role IS NOT DISTINCT FROM 'champion' AS champions,
  buying_role IS NOT DISTINCT FROM 'info_gatherer' AS info_gatherers,
  buying_role IS NULL AS no_role_yet,
  coalesce(a.committee >= 150 AND a.deciders >= 1, FALSE) AS in_buying_account,
  coalesce(a.tier = 'strategic' AND contains(lower(a.industry), 'software'), FALSE) AS strategic_software,
  sales_ready, readiness, crm_interest, email_interest, analytics_interest, fit, engagement,
  lead_quality, buying_role, journey, social_persona
FROM s3 s LEFT JOIN acc a ON a.account_id = s.account
ORDER BY s.id
"""


def agg_zero_columns():
    cols = []
    for a in aggregates():
        name = a.rsplit(" AS ", 1)[1]
        if name != "last_interaction_us":
            cols.append(name)
    return cols


if __name__ == "__main__":
    main(query)
