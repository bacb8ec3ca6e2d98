-- benches/sql/light.funnel written by hand, as an analytics engineer would, for DuckDB
-- and PostgreSQL alike; :now is replaced by the moment (a TIMESTAMP literal). The
-- contacts query; the accounts query follows the line `-- accounts`.
WITH ev AS (
  SELECT contact_id, event, url, term, form, kind, "at",
    date_part('epoch', :now - "at") AS age_s
  FROM events
  WHERE "at" <= :now
),
e AS (
  SELECT contact_id,
    COUNT(*) FILTER (WHERE event = 'page_viewed' AND STARTS_WITH(LOWER(url), '/pricing') AND "at" >= :now - INTERVAL '30 days') AS pricing_30,
    COUNT(*) FILTER (WHERE event = 'email_clicked' AND "at" >= :now - INTERVAL '30 days') AS clicks_30,
    COUNT(*) FILTER (WHERE event = 'searched' AND STRPOS(LOWER(term), 'crm') > 0 AND "at" >= :now - INTERVAL '90 days') AS crm_90,
    COUNT(*) FILTER (WHERE event = 'form_submitted' AND LOWER(form) = 'demo-request' AND "at" >= :now - INTERVAL '90 days') AS demo_90,
    COUNT(*) FILTER (WHERE event = 'email_bounced' AND kind = 'hard') AS hard,
    COUNT(*) FILTER (WHERE event IN ('page_viewed', 'email_clicked') AND "at" >= :now - INTERVAL '60 days') AS active_60,
    SUM(POWER(0.5, age_s / 2592000.0)) FILTER (WHERE event = 'page_viewed') AS page_pts,
    SUM(POWER(0.5, age_s / 2592000.0)) FILTER (WHERE event = 'email_clicked') AS click_pts
  FROM ev
  GROUP BY contact_id
),
s AS (
  SELECT c.id, c.account,
    COALESCE(e.pricing_30 > 0, FALSE) AS pricing_visitors,
    COALESCE(e.clicks_30 > 0, FALSE) AS clickers,
    COALESCE(e.crm_90 > 0, FALSE) AS searchers,
    COALESCE(e.demo_90 > 0, FALSE) AS demo_requesters,
    COALESCE(c.region = 'emea', FALSE) AS in_emea,
    c.existing_client AS clients,
    COALESCE(e.hard > 0, FALSE) AS bounced,
    COALESCE(e.active_60, 0) = 0 AS quiet,
    ROUND(CAST(LEAST(GREATEST(
      LEAST(10 * COALESCE(e.page_pts, 0), 40)
      + LEAST(5 * COALESCE(e.click_pts, 0), 30)
      + CASE WHEN e.demo_90 > 0 THEN 25 ELSE 0 END, 0), 100) AS DECIMAL(38, 10)), 2) AS interest
  FROM contacts c
  LEFT JOIN e ON e.contact_id = c.id
)
SELECT id, pricing_visitors, clickers, searchers, demo_requesters, in_emea, clients,
  bounced, quiet,
  CAST(interest AS DOUBLE PRECISION) AS interest,
  CASE WHEN ROUND(interest, 0) BETWEEN 0 AND 30 THEN 'low'
       WHEN ROUND(interest, 0) BETWEEN 31 AND 70 THEN 'mid'
       WHEN ROUND(interest, 0) BETWEEN 71 AND 100 THEN 'high' END AS interest_tier,
  CASE WHEN demo_requesters THEN 'buyer'
       WHEN searchers OR pricing_visitors THEN 'researcher'
       WHEN quiet THEN 'dormant' END AS persona
FROM s
-- accounts
WITH ev AS (
  SELECT contact_id, event, url, term, form, kind, "at",
    date_part('epoch', :now - "at") AS age_s
  FROM events
  WHERE "at" <= :now
),
e AS (
  SELECT contact_id,
    COUNT(*) FILTER (WHERE event = 'form_submitted' AND LOWER(form) = 'demo-request' AND "at" >= :now - INTERVAL '90 days') AS demo_90,
    SUM(POWER(0.5, age_s / 2592000.0)) FILTER (WHERE event = 'page_viewed') AS page_pts,
    SUM(POWER(0.5, age_s / 2592000.0)) FILTER (WHERE event = 'email_clicked') AS click_pts
  FROM ev
  GROUP BY contact_id
),
s AS (
  SELECT c.account,
    ROUND(CAST(LEAST(GREATEST(
      LEAST(10 * COALESCE(e.page_pts, 0), 40)
      + LEAST(5 * COALESCE(e.click_pts, 0), 30)
      + CASE WHEN e.demo_90 > 0 THEN 25 ELSE 0 END, 0), 100) AS DECIMAL(38, 10)), 2) AS interest
  FROM contacts c
  LEFT JOIN e ON e.contact_id = c.id
)
SELECT a.id, CAST(ROUND(COALESCE(SUM(s.interest), 0), 2) AS DOUBLE PRECISION) AS account_interest
FROM accounts a
LEFT JOIN s ON s.account = a.id
GROUP BY a.id
