"""The example rule set (examples/b2b/rules.funnel + scores.funnel) written by hand as
SQL with the same semantics (docs/semantics.md), for the benchmarks: one query per
dialect of benches/handwritten.py (DuckDB, PostgreSQL), evaluated at
2026-11-20T00:00:00Z. `query(src, d)` gives one row per contact (id, then the columns
`funnel run` writes), `query(src, d, "accounts")` one per account (id, committee,
average_fit, buying_account). benches/duckdb_b2b.py runs it on files (against
`funnel run`), benches/sql_bench.py on tables (against `funnel sql`).
"""

from handwritten import DAY, NOW, US

M30 = NOW - 30 * DAY
M60 = NOW - 60 * DAY
M90 = NOW - 90 * DAY
Y2026 = 1767225600 * US  # 2026-01-01
APR2026 = 1775001600 * US  # 2026-04-01
Y2025 = 1735689600 * US  # 2025-01-01

PRODUCT_TERMS = {
    "crm": ["crm", "pipeline", "salgsstyring"],
    "email": ["newsletter", "email marketing", "nyhedsbrev"],
    "analytics": ["dashboard", "analytics", "greining"],
}


def signals(d):
    """Each signal of the rules as a condition on an event, in dialect d."""
    def any_of(f, x, lits):
        return "(" + " OR ".join(f(x, lit) for lit in lits) + ")"

    term, url, link = "lower(term)", "lower(url)", "lower(link)"
    out = {
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
        "service_search": "event = 'searched' AND " + any_of(
            d.contains, term, ["service", "consulting", "tjeneste", "þjónusta"]),
        "service_click": f"event = 'email_clicked' AND {d.contains(link, '/service')}",
        "service_visit": f"event = 'page_viewed' AND {d.starts_with(url, '/service')}",
        "blog": f"event = 'page_viewed' AND {d.starts_with(url, '/blog')}",
        "soft_bounce": "event = 'email_bounced' AND kind = 'soft'",
        "hard_bounce": "event = 'email_bounced' AND kind = 'hard'",
        "readiness_page": "event = 'page_viewed' AND " + any_of(
            d.starts_with, url, ["/pricing", "/demo", "/compare", "/contact-sales"]),
        "demo_request": "event = 'form_submitted' AND lower(form) = 'demo-request'",
        "whitepaper": "event = 'asset_downloaded' AND asset_type = 'whitepaper'",
        "demo_video": f"event = 'video_watched' AND {d.starts_with('lower(video)', 'product-demo')}",
        "crm_click": f"event = 'email_clicked' AND {d.contains(link, '/product/crm')}",
    }
    for product, terms in PRODUCT_TERMS.items():
        out[f"{product}_page"] = f"event = 'page_viewed' AND {d.starts_with(url, f'/product/{product}')}"
        out[f"{product}_search"] = "event = 'searched' AND " + any_of(d.contains, term, terms)
        out[f"{product}_link"] = f"event = 'email_clicked' AND {d.contains(link, f'/product/{product}')}"
    return out


def aggregates(d):
    """Every per-contact aggregate over the events, as (name, expr); counts and sums
    only (0 for a contact without events) but `last_ts`."""
    sig = signals(d)
    out = []

    def count(name, cond, win):
        out.append((name, f"count(*) FILTER (WHERE {cond} AND {win})"))

    def points(name, cond, factor, m, mult="1"):
        out.append((name, f"coalesce(sum({mult} * {factor}) FILTER (WHERE {cond} AND {d.upto(m)}), 0)"))

    def weeks(name, cond):
        # periods: 0 = [now-1w, now], k = [now-(k+1)w, now-kw)
        period = f"(CASE WHEN ts = {d.at(NOW)} THEN 0 ELSE ceil({d.age_s(NOW)} / 604800) - 1 END)"
        out.append((name, f"count(DISTINCT {period}) FILTER (WHERE {cond} AND {d.since(NOW - 4 * 7 * DAY, NOW)})"))

    count("service_search_90", sig["service_search"], d.within(90, NOW))
    count("service_click_30", sig["service_click"], d.within(30, NOW))
    count("service_visit_30", sig["service_visit"], d.within(30, NOW))
    count("hard_bounce_ever", sig["hard_bounce"], d.upto(NOW))
    count("soft_bounce_ever", sig["soft_bounce"], d.upto(NOW))
    count("crm_click_90", sig["crm_click"], d.within(90, NOW))
    count("click_90", sig["click"], d.within(90, NOW))
    for s in ["page", "click", "searched", "form", "asset"]:
        count(f"{s}_60", sig[s], d.within(60, NOW))
    count("sent_60", sig["sent"], d.within(60, NOW))
    count("page_90_30", sig["page"], d.between(M90, M30, NOW))
    count("blog_120_30", sig["blog"], d.between(NOW - 120 * DAY, M30, NOW))
    count("blog_30", sig["blog"], d.within(30, NOW))
    count("blog_7", sig["blog"], d.within(7, NOW))
    count("blog_37_7", sig["blog"], d.between(NOW - 37 * DAY, NOW - 7 * DAY, NOW))
    out.append(("purchased_2026", f"coalesce(sum(amount) FILTER (WHERE event = 'purchased' AND {d.since(Y2026, NOW)}), 0)"))
    count("q1_crm", "event = 'purchased' AND product = 'crm'", f"ts >= {d.at(Y2026)} AND ts < {d.at(APR2026)}")
    count("follow_up_30", "event = 'sales_activity' AND outcome = 'follow_up'", d.within(30, NOW))
    count("reached_30", "event = 'sales_activity' AND outcome = 'reached'", d.within(30, NOW))
    count("call_14", "event = 'sales_activity' AND kind = 'call'", d.within(14, NOW))
    count("promoter", "event = 'survey_answered' AND score >= 9", d.since(Y2026, NOW))
    count("readiness_30", sig["readiness_page"], d.within(30, NOW))
    weeks("blog_weeks", sig["blog"])
    weeks("social_weeks", sig["social"])
    weeks("spark_weeks", f"{sig['social']} AND action = 'post' AND network IN ('facebook', 'twitter', 'blog')")
    count("case_study_90", "event = 'asset_downloaded' AND asset_type = 'case_study'", d.within(90, NOW))
    count("asset_90", sig["asset"], d.within(90, NOW))
    count("mingle_90", f"{sig['social']} AND action IN ('comment', 'share') AND network IN ('twitter', 'linkedin')",
          d.within(90, NOW))
    count("clique_90", f"{sig['social']} AND action IN ('comment', 'share') AND network IN ('facebook', 'youtube')",
          d.within(90, NOW))
    count("look_90", f"{sig['social']} AND action = 'view'", d.within(90, NOW))
    count("social_180", sig["social"], d.within(180, NOW))
    count("social_ever", sig["social"], d.upto(NOW))
    # sales_ready at now, 30d ago, 60d ago
    for tag, m in [("0", NOW), ("30", M30), ("60", M60)]:
        f = d.half_life(90, m)
        points(f"sr_white_{tag}", sig["whitepaper"], f, m)
        points(f"sr_ready_{tag}", sig["readiness_page"], f, m)
        points(f"sr_video_{tag}", sig["demo_video"], f, m, "coalesce(percent, 0)")
        points(f"sr_click_{tag}", sig["click"], f, m)
        points(f"sr_demo_{tag}", sig["demo_request"], f, m)
        points(f"sr_open_{tag}", sig["opened"], f, m)
        count(f"sr_page30_{tag}", sig["page"], d.within(30, m))
        count(f"sr_click30_{tag}", sig["click"], d.within(30, m))
        count(f"sr_hard_{tag}", sig["hard_bounce"], d.upto(m))
    f = d.step(25, 30, NOW)
    for product in PRODUCT_TERMS:
        points(f"{product}_p", sig[f"{product}_page"], f, NOW)
        points(f"{product}_s", sig[f"{product}_search"], f, NOW)
        points(f"{product}_l", sig[f"{product}_link"], f, NOW)
    f = d.half_life(60, NOW)
    points("en_page", "event = 'page_viewed' AND seconds >= 30", f, NOW)
    points("en_search", sig["searched"], f, NOW)
    points("en_click", sig["click"], f, NOW)
    points("en_asset", sig["asset"], f, NOW)
    points("en_webinar", "event = 'webinar_attended' AND minutes >= 20", f, NOW)
    points("en_video", sig["video"], f, NOW, "coalesce(percent, 0)")
    return out


# tiers readiness of sales_ready
READINESS = [("low", 0, 30), ("middle", 31, 75), ("high", 76, 100)]


def sales_ready(d, t):
    raw = (f"{d.cap(f'15 * sr_white_{t}', 45)} + {d.cap(f'4 * sr_ready_{t}', 32)} + 20 * sr_video_{t}"
           f" + {d.cap(f'5 * sr_click_{t}', 25)} + 30 * sr_demo_{t} + {d.cap(f'1 * sr_open_{t}', 3)}"
           f" + (CASE WHEN sr_page30_{t} = 0 AND sr_click30_{t} = 0 THEN -10 ELSE 0 END)"
           f" + (CASE WHEN sr_hard_{t} >= 1 THEN -50 ELSE 0 END)")
    return d.r2(f"greatest(0, least(100, {raw}))")


def interest(d, p):
    raw = f"{d.cap(f'10 * {p}_p', 50)} + 15 * {p}_s + 20 * {p}_l"
    return d.r2(f"greatest(0, least(100, {raw}))")


def query(src, d, rows="contacts", ts_text=False):
    """The query in dialect d (benches/handwritten.py) over `src(table)`: one row per
    contact, or per account when `rows` is "accounts"; `last_interaction` as Funnel's
    text (`2026-11-19T10:00:00Z`) when ts_text, else a timestamp."""
    aggs = aggregates(d)
    agg_list = ",\n    ".join(f"{e} AS {n}" for n, e in aggs)
    zeroed = ",\n    ".join(f"coalesce(a.{n}, 0) AS {n}" for n, _ in aggs)
    fit = d.r2("greatest(0, least(50, "
               f"(CASE WHEN {d.iregex('job_title', ['chief', 'ceo', 'cfo', 'cto', 'cmo', 'director', 'head of', 'vp'], True)} THEN 20 ELSE 0 END)"
               " + (CASE WHEN company_size BETWEEN 200 AND 5000 THEN 15 ELSE 0 END)"
               " + (CASE WHEN region IN ('emea', 'amer') THEN 10 ELSE 0 END)"
               " + (CASE WHEN NOT existing_client THEN 5 ELSE 0 END)))")
    engagement = d.r2("greatest(0, least(100, "
                      f"{d.cap('2 * en_page + 5 * en_search', 40)} + {d.cap('3 * en_click', 20)}"
                      f" + {d.cap('10 * en_asset + 8 * en_webinar + 10 * en_video', 40)}))")
    last_interaction = d.timestamp("last_ts")
    if ts_text:
        last_interaction = f"strftime({last_interaction}, '%Y-%m-%dT%H:%M:%SZ')"
    chain = f"""
WITH ev AS (
  SELECT contact_id, event, {d.ts('"at"')} AS ts, term, link, url, kind, form, asset_type,
         video, percent, seconds, minutes, score, network, action, amount, product, outcome
  FROM {src('events')}
),
agg AS (
  SELECT contact_id,
    max(ts) FILTER (WHERE {d.upto(NOW)}) AS last_ts,
    {agg_list}
  FROM ev GROUP BY contact_id
),
ch AS (
  SELECT contact_id, attribute, value, {d.ts('"at"')} AS ts,
         lag(value) OVER (PARTITION BY contact_id, attribute ORDER BY "at") AS prev
  FROM {src('changes')}
),
hist AS (
  SELECT contact_id,
    {d.latest('value', f"attribute = 'lead_stage' AND {d.upto(NOW)}")} AS ls_now,
    {d.latest('value', f"attribute = 'lead_stage' AND {d.upto(M90)}")} AS ls_90,
    count(*) FILTER (WHERE attribute = 'lead_stage') AS ls_log,
    {d.latest('value', f"attribute = 'opportunity_stage' AND {d.upto(NOW)}")} AS os_now,
    count(*) FILTER (WHERE attribute = 'opportunity_stage') AS os_log,
    count(*) FILTER (WHERE attribute = 'lead_stage' AND value = 'mql' AND {d.within(90, NOW)}) AS mql_in_90,
    count(*) FILTER (WHERE attribute = 'lead_stage' AND value = 'sql' AND {d.within(30, NOW)}) AS to_sql_30,
    count(*) FILTER (WHERE attribute = 'lead_stage' AND value = 'sql' AND prev = 'lead' AND {d.within(90, NOW)}) AS lead_to_sql_90,
    count(*) FILTER (WHERE attribute = 'opportunity_stage' AND value = 'negotiation' AND {d.within(30, NOW)}) AS to_neg_30
  FROM ch GROUP BY contact_id
),
base AS (
  -- contacts without events have no `agg` row: counts and sums are 0
  SELECT c.id, c.job_title, c.company_size, c.region, c.existing_client, c.owner, c.account,
    c.lifetime_value, c.age, c.income,
    {d.ts('CAST(c.last_purchase AS TIMESTAMP)')} AS last_purchase_ts,
    CASE WHEN coalesce(h.ls_log, 0) = 0 THEN c.lead_stage ELSE h.ls_now END AS lead_stage,
    CASE WHEN coalesce(h.ls_log, 0) = 0 THEN c.lead_stage ELSE h.ls_90 END AS lead_stage_90,
    CASE WHEN coalesce(h.os_log, 0) = 0 THEN c.opportunity_stage ELSE h.os_now END AS opportunity_stage,
    coalesce(h.mql_in_90, 0) AS mql_in_90, coalesce(h.to_sql_30, 0) AS to_sql_30,
    coalesce(h.lead_to_sql_90, 0) AS lead_to_sql_90, coalesce(h.to_neg_30, 0) AS to_neg_30,
    a.last_ts,
    {zeroed}
  FROM {src('contacts')} c
  LEFT JOIN agg a ON a.contact_id = c.id
  LEFT JOIN hist h ON h.contact_id = c.id
),
scores AS (
  SELECT *,
    {sales_ready(d, '0')} AS sales_ready,
    {sales_ready(d, '30')} AS sales_ready_30,
    {sales_ready(d, '60')} AS sales_ready_60,
    {interest(d, 'crm')} AS crm_interest,
    {interest(d, 'email')} AS email_interest,
    {interest(d, 'analytics')} AS analytics_interest,
    {fit} AS fit,
    {engagement} AS engagement
  FROM base
),
s2 AS (
  SELECT *, {d.r2('greatest(0, least(150, fit + engagement))')} AS lead_quality,
    {d.tier('sales_ready', READINESS)} AS readiness,
    {last_interaction} AS last_interaction,
    (service_search_90 > 0 OR service_click_30 > 0 OR service_visit_30 > 0) AS service_interest,
    CASE
      WHEN {d.iregex('job_title', ['chief', 'ceo', 'cfo', 'cto', 'director', 'vp', 'direktør', 'forstjóri'], True)} OR case_study_90 > 0 THEN 'decision_maker'
      WHEN social_weeks >= 3 OR blog_30 >= 5 THEN 'champion'
      WHEN {d.iregex('job_title', ['analyst', 'specialist', 'coordinator', 'assistant', 'konsulent'])} OR asset_90 >= 2 THEN 'info_gatherer'
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
    {d.r2('coalesce(sum(s.sales_ready), 0)')} AS committee,
    avg(s.fit) AS average_fit,
    count(s.id) FILTER (WHERE s.buying_role = 'decision_maker') AS deciders
  FROM {src('accounts')} x LEFT JOIN s3 s ON s.account = x.id
  GROUP BY x.id, x.tier, x.industry
)"""
    if rows == "accounts":
        return chain + """
SELECT account_id AS id, committee, average_fit, committee >= 150 AND deciders >= 1 AS buying_account
FROM acc
"""
    return chain + f"""
SELECT s.id,
  service_interest,
  service_interest AND hard_bounce_ever = 0 AS service_campaign,
  hard_bounce_ever > 0 AS hard_bounced,
  soft_bounce_ever >= 4 AND hard_bounce_ever = 0 AS soft_bounced_often,
  crm_click_90 > 0 AS crm_clickers,
  last_interaction,
  page_60 = 0 AND click_60 = 0 AND searched_60 = 0 AND form_60 = 0 AND asset_60 = 0 AS no_action_60d,
  sent_60 = 0 AS no_marketing_60d,
  coalesce(last_ts < {d.at(NOW - 14 * DAY)}, FALSE) AND page_90_30 >= 3 AS gone_quiet,
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
  coalesce(last_purchase_ts >= {d.at(NOW - 365 * DAY)} AND last_purchase_ts <= {d.at(NOW)}, FALSE) AS recent_buyers,
  coalesce(existing_client AND last_purchase_ts < {d.at(Y2025)}, FALSE) AS lapsed_customers,
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
  coalesce(a.tier = 'strategic' AND {d.contains('lower(a.industry)', 'software')}, FALSE) AS strategic_software,
  sales_ready, readiness, crm_interest, email_interest, analytics_interest, fit, engagement,
  lead_quality, buying_role, journey, social_persona
FROM s3 s LEFT JOIN acc a ON a.account_id = s.account
ORDER BY s.id
"""
