#!/usr/bin/env python3
"""Generates the sample data of the B2B example (examples/b2b/*.funnel).

Deterministic (fixed seed, Python 3 standard library only). Writes contacts.csv,
events.csv, accounts.csv and changes.csv beside this file. The data is built from
archetypes, each aimed at definitions of the example rules, so that every segment,
score rule, tier, persona and account rule has members and non-members when the rules
run with `--as-of 2026-11-20T00:00:00Z`.

    python3 examples/b2b/data/generate.py
"""

import csv
import os
import random
from datetime import datetime, timedelta, timezone

SEED = 20261120
NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)
OUT = os.path.dirname(os.path.abspath(__file__))

rng = random.Random(SEED)

CONTACT_COLUMNS = [
    "id", "email", "job_title", "company_size", "country", "region", "existing_client",
    "lead_stage", "opportunity_stage", "owner", "account", "first_seen", "last_purchase",
    "lifetime_value", "contract_length", "age", "income", "household", "hobbies",
]
EVENT_FIELDS = [
    "campaign", "link", "kind", "url", "seconds", "term", "asset", "asset_type", "video",
    "percent", "form", "webinar", "minutes", "score", "network", "action", "amount",
    "product", "outcome", "rep",
]
ACCOUNT_COLUMNS = ["id", "name", "industry", "employees", "tier"]

FIRST_NAMES = [
    "Søren", "Mette", "Anders", "Ida", "Mads", "Freja", "Jens", "Sofie", "Rasmus", "Astrid",
    "Jón", "Sigríður", "Guðmundur", "Þóra", "Ólafur", "Helga", "Björn", "Ásdís", "Einar",
    "Katrín", "João", "Inês", "Tiago", "Beatriz", "Emma", "Liam", "Olivia", "Noah", "Ava",
    "Lukas", "Hannah", "Mia", "Oliver", "Charlotte", "Ethan",
]
LAST_NAMES = [
    "Sørensen", "Jørgensen", "Kjær", "Nielsen", "Møller", "Hansen", "Østergaard", "Bæk",
    "Þórsson", "Guðmundsdóttir", "Jónsson", "Sigurðardóttir", "Ólafsson", "Björnsdóttir",
    "Gonçalves", "Ribeiro", "Simões", "Conceição", "Smith", "Miller", "Brown", "Walker",
    "Schmidt", "Weber", "Dubois", "Rossi",
]
COUNTRIES = {
    "emea": ["Danmark", "Ísland", "Portugal", "Germany", "United Kingdom", "Sverige"],
    "amer": ["United States", "Canada", "Brasil"],
    "apac": ["Australia", "Singapore", "Japan"],
}
DM_TITLES = [
    "CEO", "CFO", "CTO", "VP Sales", "VP Marketing", "Administrerende direktør",
    "Forstjóri", "Director of Operations", "Chief Revenue Officer", "Direktør for salg",
]
GATHERER_TITLES = [
    "Marketing Analyst", "CRM Specialist", "Marketing Coordinator", "Executive Assistant",
    "IT-konsulent", "Data Analyst",
]
OTHER_TITLES = [
    "Marketing Manager", "Sales Manager", "Developer", "Verkefnastjóri", "Projektleder",
    "Account Manager", "Designer", "Engineer", "Gerente de Marketing",
]
OWNERS = ["Mette Sørensen", "Jón Þórsson", "Ana Ribeiro", "Tom Walker"]
HOBBIES = ["sejlads", "fjallgöngur", "cycling", "football", "håndbold", "reading", "golf"]
BLOG = ["/blog/lead-scoring", "/blog/segmentering", "/blog/gdpr", "/blog/email-tips", "/blog/þjónusta"]
READINESS = ["/pricing", "/demo", "/compare/hubspot", "/contact-sales"]
OTHER_PAGES = ["/", "/about", "/careers", "/docs/getting-started", "/customers"]
CAMPAIGNS = ["nyhedsbrev-2026-{:02d}", "product-update-{:02d}", "webinar-invite-{:02d}"]


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(lo, hi=None):
    """A random moment between `hi` and `lo` days before NOW (at least `lo` days old)."""
    if hi is None:
        hi = lo
    days = rng.uniform(lo, hi)
    return NOW - timedelta(days=days)


class Contact:
    def __init__(self, cid):
        self.id = cid
        self.attrs = {}
        self.events = []
        self.changes = []

    def ev(self, etype, at, **fields):
        self.events.append((at, etype, fields))

    def change(self, attribute, value, at):
        self.changes.append((at, attribute, value))

    def stage_history(self, stages):
        """`stages`: [(value, days ago), …] oldest first; sets the current value."""
        for value, days in stages:
            self.change("lead_stage", value, ago(days))
        self.attrs["lead_stage"] = stages[-1][0]

    def opportunity_history(self, stages):
        for value, days in stages:
            self.change("opportunity_stage", value, ago(days))
        self.attrs["opportunity_stage"] = stages[-1][0]


# ---------------------------------------------------------------- event helpers

def page(c, url, lo, hi, seconds=None):
    c.ev("page_viewed", ago(lo, hi), url=url, seconds=seconds if seconds is not None else rng.randint(5, 240))


def readiness_pages(c, n, lo, hi):
    for _ in range(n):
        page(c, rng.choice(READINESS), lo, hi, rng.randint(30, 300))


def click(c, link, lo, hi):
    c.ev("email_clicked", ago(lo, hi), campaign=rng.choice(CAMPAIGNS).format(rng.randint(1, 11)), link=link)


def download(c, asset_type, lo, hi):
    c.ev("asset_downloaded", ago(lo, hi), asset=f"{asset_type}-{rng.randint(1, 9)}", asset_type=asset_type)


def video(c, name, percent, lo, hi):
    c.ev("video_watched", ago(lo, hi), video=name, percent=percent)


def social(c, network, action, lo, hi):
    c.ev("social_engaged", ago(lo, hi), network=network, action=action)


def sales(c, kind, outcome, lo, hi):
    c.ev("sales_activity", ago(lo, hi), kind=kind, outcome=outcome, rep=c.attrs.get("owner") or rng.choice(OWNERS))


# ---------------------------------------------------------------- base contact

def base(c):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    region = rng.choices(["emea", "amer", "apac"], [6, 3, 1])[0]
    c.first = first
    c.attrs.update(
        email=f"{first}.{last}@example.com".lower().replace(" ", ""),
        job_title=rng.choice(OTHER_TITLES) if rng.random() < 0.85 else None,
        company_size=rng.choice([None, rng.randint(5, 150), rng.randint(200, 5000), rng.randint(6000, 40000)]),
        country=rng.choice(COUNTRIES[region]) if rng.random() < 0.9 else None,
        region=region,
        existing_client=False,
        lead_stage=rng.choice(["subscriber", "lead", "lead", "mql"]),
        owner=rng.choice(OWNERS) if rng.random() < 0.7 else None,
        first_seen=None,
        lifetime_value=0,
        age=rng.randint(22, 64) if rng.random() < 0.5 else None,
        income=rng.choice([None, rng.randint(30, 150) * 1000]),
        household=rng.choice([None, 1, 2, 3, 4, 5]),
        hobbies=rng.choice([None] + HOBBIES),
    )


def background(c, mailing=True):
    """Old history (200 to 700 days ago) and, for mailing-list contacts, recent sends."""
    for _ in range(rng.randint(1, 5)):
        page(c, rng.choice(OTHER_PAGES + BLOG), 200, 700)
    for _ in range(rng.randint(1, 4)):
        t = ago(200, 700)
        camp = rng.choice(CAMPAIGNS).format(rng.randint(1, 12))
        c.ev("email_sent", t, campaign=camp)
        if rng.random() < 0.4:
            c.ev("email_opened", t + timedelta(hours=rng.randint(1, 48)), campaign=camp)
    if mailing:
        for k in range(rng.randint(1, 3)):
            camp = f"nyhedsbrev-2026-{11 - k:02d}"
            t = ago(3 + 20 * k, 15 + 20 * k)
            c.ev("email_sent", t, campaign=camp)
            if rng.random() < 0.5:
                c.ev("email_opened", t + timedelta(hours=rng.randint(1, 30)), campaign=camp)


# ---------------------------------------------------------------- archetypes

def hot_lead(c, title=None, called=None):
    """High sales readiness: whitepapers, pricing pages, a demo request, recent clicks."""
    c.attrs["job_title"] = title or rng.choice(DM_TITLES + OTHER_TITLES)
    c.attrs["company_size"] = rng.randint(200, 5000)
    c.stage_history([("lead", rng.randint(200, 400)), ("mql", rng.randint(40, 100)), (rng.choice(["sql", "opportunity"]), rng.randint(1, 20))])
    if c.attrs["lead_stage"] == "opportunity":
        c.opportunity_history([("discovery", 15), (rng.choice(["proposal", "negotiation"]), rng.randint(1, 10))])
    for _ in range(3):
        download(c, "whitepaper", 1, 25)
    readiness_pages(c, rng.randint(8, 11), 0.5, 20)
    c.ev("form_submitted", ago(1, 10), form="demo-request")
    for _ in range(3):
        click(c, "/product/crm" if rng.random() < 0.3 else "/blog/lead-scoring", 1, 25)
    video(c, "product-demo-crm", round(rng.uniform(0.5, 1.0), 2), 1, 20)
    c.ev("webinar_attended", ago(5, 25), webinar="Lead scoring 101", minutes=rng.randint(20, 60))
    for _ in range(2):
        c.ev("searched", ago(1, 20), term=rng.choice(["pricing", "crm pipeline", "demo"]))
    if called is None:
        called = rng.random() < 0.5
    if called:
        sales(c, "call", "reached", 1, 12)


def mid_lead(c):
    """Middle readiness: one whitepaper, some pricing pages, clicks, a video."""
    c.stage_history([("lead", rng.randint(100, 300)), ("mql", rng.randint(20, 80))])
    download(c, "whitepaper", 5, 40)
    readiness_pages(c, rng.randint(3, 5), 2, 40)
    for _ in range(rng.randint(1, 3)):
        click(c, "/blog/segmentering", 3, 40)
    video(c, "product-demo-email", round(rng.uniform(0.3, 0.9), 2), 3, 40)
    if rng.random() < 0.5:
        download(c, "ebook", 5, 60)


def low_lead(c):
    """A little recent activity: a low but positive score."""
    c.attrs["lead_stage"] = rng.choice(["lead", "mql"])
    readiness_pages(c, rng.randint(1, 2), 2, 25)
    page(c, rng.choice(OTHER_PAGES), 2, 25)


def cooling(c):
    """Busy 65 to 100 days ago, quiet since: falling and cold, gone quiet."""
    c.attrs["lead_stage"] = rng.choice(["lead", "mql", "mql"])
    for _ in range(2):
        download(c, "whitepaper", 65, 100)
    readiness_pages(c, rng.randint(5, 8), 65, 85)
    for _ in range(rng.randint(2, 4)):
        click(c, "/blog/gdpr", 65, 100)
    if rng.random() < 0.5:
        page(c, "/", 15, 25)


def dormant(c, marketing):
    """Nothing for half a year or more; with or without recent sends from us."""
    c.attrs["lead_stage"] = rng.choice(["subscriber", "lead", "mql"])
    background(c, mailing=marketing)


def hard_bouncer(c, interested):
    c.ev("email_bounced", ago(5, 300), kind="hard")
    if interested:
        c.ev("searched", ago(5, 80), term=rng.choice(["consulting services", "tjenester", "þjónusta"]))


def soft_bouncer(c, n, hard=False):
    for _ in range(n):
        c.ev("email_bounced", ago(5, 400), kind="soft")
    if hard:
        c.ev("email_bounced", ago(5, 100), kind="hard")


def service_interest(c, how):
    if how == "search":
        c.ev("searched", ago(10, 85), term=rng.choice(["consulting", "Service desk", "IT-tjeneste", "þjónusta"]))
    elif how == "click":
        click(c, "/service/consulting", 1, 28)
    elif how == "visit":
        page(c, rng.choice(["/service", "/service/implementation"]), 1, 28)
    else:  # too long ago to count
        c.ev("searched", ago(100, 200), term="consulting")
        page(c, "/service", 40, 100)


def product_interest(c, product, client):
    c.attrs["existing_client"] = client
    for _ in range(5):
        page(c, f"/product/{product}/features", 1, 28)
    term = {"crm": "salgsstyring", "email": "nyhedsbrev", "analytics": "dashboard"}[product]
    c.ev("searched", ago(2, 28), term=term)
    click(c, f"/product/{product}", 2, 60)


def blog_reader(c, kind):
    if kind == "weekly":
        for week in range(4):
            page(c, rng.choice(BLOG), 7 * week + 0.5, 7 * week + 6.5)
        for _ in range(2):
            page(c, rng.choice(BLOG), 1, 25)
    elif kind == "stopped":
        for _ in range(rng.randint(2, 4)):
            page(c, rng.choice(BLOG), 40, 110)
    elif kind == "came_back":
        page(c, rng.choice(BLOG), 0.5, 6.5)
        page(c, rng.choice(BLOG), 45, 80)


SPARK_NETWORKS = ["facebook", "twitter", "blog"]


def social_persona(c, persona):
    a = c.attrs
    if persona == "sparks":
        a["age"], a["income"] = rng.randint(18, 30), rng.randint(60, 100) * 1000
        for week in range(4):
            social(c, rng.choice(SPARK_NETWORKS), "post", 7 * week + 0.5, 7 * week + 6.5)
    elif persona == "mix_n_minglers":
        a["age"], a["income"] = rng.randint(18, 35), rng.randint(80, 130) * 1000
        social(c, rng.choice(["twitter", "linkedin"]), rng.choice(["comment", "share"]), 5, 80)
    elif persona == "cliquers":
        a["age"], a["income"] = rng.randint(40, 55), rng.randint(80, 130) * 1000
        social(c, rng.choice(["facebook", "youtube"]), rng.choice(["comment", "share"]), 5, 80)
    elif persona == "onlookers":
        a["age"], a["income"] = rng.randint(31, 39), rng.randint(85, 120) * 1000
        social(c, rng.choice(["facebook", "youtube"]), "view", 5, 80)
    elif persona == "newbies":
        a["age"], a["income"] = rng.randint(31, 45), rng.randint(50, 79) * 1000
        social(c, rng.choice(["facebook", "youtube"]), rng.choice(["view", "like"]), 20, 170)
    elif persona == "no_shows":
        a["age"], a["income"] = rng.randint(55, 75), rng.randint(20, 40) * 1000
    elif persona == "near_miss":
        # in a band by age, but the wrong income or activity: no social persona
        a["age"], a["income"] = rng.randint(31, 45), rng.randint(20, 45) * 1000
        social(c, "linkedin", "like", 300, 400)


def customer(c, kind):
    a = c.attrs
    a["existing_client"] = True
    c.stage_history([("lead", rng.randint(500, 700)), ("opportunity", rng.randint(420, 490)), ("customer", rng.randint(300, 410))])
    c.opportunity_history([("discovery", 480), ("proposal", 450), ("won", 400)])
    a["contract_length"] = rng.choice([365, 730, 1095]) * 86400
    if kind == "lapsed":
        last = (NOW - timedelta(days=rng.randint(700, 730))).date()
        a["lifetime_value"] = rng.randint(2, 40) * 1000
        c.ev("purchased", datetime(last.year, last.month, last.day, 10, tzinfo=timezone.utc), amount=float(a["lifetime_value"]), product=rng.choice(["crm", "email"]))
    elif kind == "q1_crm":
        t = datetime(2026, rng.randint(1, 3), rng.randint(1, 28), 11, tzinfo=timezone.utc)
        amount = rng.randint(5, 30) * 1000
        c.ev("purchased", t, amount=float(amount), product="crm")
        last = t.date()
        a["lifetime_value"] = amount + rng.randint(0, 20) * 1000
    elif kind == "big":
        t = ago(30, 200)
        amount = rng.randint(21, 35) * 1000
        c.ev("purchased", t, amount=float(amount), product=rng.choice(["analytics", "email"]))
        last = t.date()
        a["lifetime_value"] = amount + rng.randint(0, 10) * 1000
    elif kind == "whale":
        t = ago(400, 500)
        c.ev("purchased", t, amount=60000.0, product="crm")
        last = t.date()
        a["lifetime_value"] = 75000.5
    else:  # a regular customer, last purchase within the year or a bit longer
        t = ago(100, 420)
        amount = rng.randint(1, 9) * 1000
        c.ev("purchased", t, amount=float(amount), product=rng.choice(["crm", "email", "analytics"]))
        last = t.date()
        a["lifetime_value"] = amount + rng.randint(0, 5) * 1000 + 0.5
    a["last_purchase"] = last.isoformat()
    if rng.random() < 0.6:
        c.ev("survey_answered", ago(10, 300), score=rng.choice([9, 10, 10, 7, 8, 3]))


def stage_story(c, story):
    if story == "became_sql":
        c.stage_history([("lead", rng.randint(60, 200)), ("mql", rng.randint(35, 55)), ("sql", rng.randint(2, 28))])
    elif story == "skipped_mql":
        c.stage_history([("lead", rng.randint(100, 300)), ("sql", rng.randint(31, 85))])
    elif story == "was_mql":
        c.stage_history([("lead", rng.randint(200, 300)), ("mql", rng.randint(120, 180)), ("lead", rng.randint(40, 80))])
    elif story == "old_sql":
        c.stage_history([("lead", rng.randint(300, 400)), ("mql", rng.randint(200, 290)), ("sql", rng.randint(100, 190))])
    elif story == "negotiation":
        c.stage_history([("mql", 200), ("sql", 120), ("opportunity", 60)])
        c.opportunity_history([("discovery", 55), ("proposal", 40), ("negotiation", rng.randint(2, 28))])
    elif story == "lost":
        c.stage_history([("mql", 300), ("sql", 250), ("opportunity", 200)])
        c.opportunity_history([("discovery", 190), ("proposal", 150), ("lost", 100)])


def follow_up(c, reached):
    sales(c, rng.choice(["call", "meeting"]), "follow_up", 3, 25)
    if reached:
        sales(c, "call", "reached", 1, 2.5)
    else:
        sales(c, "call", "no_answer", 1, 2.5)


def clicker(c, n):
    for _ in range(n):
        click(c, rng.choice(["/blog/gdpr", "/customers", "/blog/email-tips"]), 2, 85)


def gatherer(c, by_title):
    if by_title:
        c.attrs["job_title"] = rng.choice(GATHERER_TITLES)
    else:
        download(c, "datasheet", 5, 80)
        download(c, "ebook", 5, 80)


def decision_maker(c, by_title):
    if by_title:
        c.attrs["job_title"] = rng.choice(DM_TITLES)
    else:
        download(c, "case_study", 5, 80)


def champion_by_blog(c):
    for _ in range(5):
        page(c, rng.choice(BLOG), 0.5, 28)


# ---------------------------------------------------------------- the population

def plan():
    """(archetype name, count): every contact gets one main archetype."""
    return [
        ("hot_dm", 10), ("hot_other", 10), ("hot_gatherer", 4),
        ("mid", 30), ("low", 15), ("cooling", 20),
        ("dormant_mailed", 12), ("dormant_unmailed", 14),
        ("hard_interested", 6), ("hard_plain", 6),
        ("soft4", 8), ("soft3", 8), ("soft5_hard", 3),
        ("service_search", 6), ("service_click", 6), ("service_visit", 6), ("service_old", 6),
        ("crm", 6), ("crm_client", 3), ("email", 6), ("email_client", 3),
        ("analytics", 6), ("analytics_client", 3),
        ("weekly", 8), ("stopped", 8), ("came_back", 6), ("blog_champion", 5),
        ("sparks", 5), ("mix_n_minglers", 5), ("cliquers", 5), ("onlookers", 5),
        ("newbies", 5), ("no_shows", 6), ("near_miss", 4),
        ("lapsed", 6), ("q1_crm", 5), ("big", 4), ("whale", 2), ("customer", 8),
        ("became_sql", 5), ("skipped_mql", 4), ("was_mql", 4), ("old_sql", 4),
        ("negotiation", 4), ("lost", 3),
        ("follow_up_open", 4), ("follow_up_done", 4),
        ("many_clicks", 5), ("dm_case_study", 4), ("gatherer_assets", 4),
    ]


def apply(c, kind):
    if kind == "hot_dm":
        hot_lead(c, title=rng.choice(DM_TITLES))
    elif kind == "hot_other":
        hot_lead(c, title=rng.choice(OTHER_TITLES))
    elif kind == "hot_gatherer":
        hot_lead(c, title=rng.choice(GATHERER_TITLES), called=False)
    elif kind == "mid":
        mid_lead(c)
    elif kind == "low":
        low_lead(c)
    elif kind == "cooling":
        cooling(c)
    elif kind.startswith("dormant"):
        dormant(c, kind == "dormant_mailed")
        return False
    elif kind.startswith("hard_"):
        hard_bouncer(c, kind == "hard_interested")
    elif kind == "soft4":
        soft_bouncer(c, 4)
    elif kind == "soft3":
        soft_bouncer(c, 3)
    elif kind == "soft5_hard":
        soft_bouncer(c, 5, hard=True)
    elif kind.startswith("service_"):
        service_interest(c, kind.split("_")[1])
    elif kind in ("crm", "email", "analytics", "crm_client", "email_client", "analytics_client"):
        product_interest(c, kind.split("_")[0], kind.endswith("_client"))
    elif kind in ("weekly", "stopped", "came_back"):
        blog_reader(c, kind)
    elif kind == "blog_champion":
        champion_by_blog(c)
    elif kind in ("sparks", "mix_n_minglers", "cliquers", "onlookers", "newbies", "no_shows", "near_miss"):
        social_persona(c, kind)
    elif kind in ("lapsed", "q1_crm", "big", "whale", "customer"):
        customer(c, kind)
    elif kind in ("became_sql", "skipped_mql", "was_mql", "old_sql", "negotiation", "lost"):
        stage_story(c, kind)
        readiness_pages(c, 1, 3, 60)
    elif kind.startswith("follow_up"):
        follow_up(c, kind == "follow_up_done")
        page(c, "/pricing", 3, 20)
    elif kind == "many_clicks":
        clicker(c, rng.randint(3, 6))
    elif kind == "dm_case_study":
        decision_maker(c, by_title=False)
    elif kind == "gatherer_assets":
        gatherer(c, by_title=False)
    return True


ACCOUNT_NAMES = [
    ("Nordlys Software A/S", "Software", "strategic"), ("Hafnarfjörður Fiskur hf.", "Fishing", "key"),
    ("Lisboa Logística Lda.", "Logistics", "standard"), ("Østerbro Bank", "Finance", "strategic"),
    ("Reykjavík Cloud ehf.", "Cloud software", "strategic"), ("Aarhus Maskinfabrik", "Manufacturing", "standard"),
    ("Porto Vinhos SA", "Retail", "standard"), ("Acme Analytics Inc.", "SaaS software", "key"),
    ("Blue Harbor Health", "Healthcare", "key"), ("Kjøbenhavn Kaffe ApS", "Retail", "standard"),
    ("Vatnajökull Energy", "Energy", "strategic"), ("Brightline Software Ltd", "Software", "standard"),
    ("Coimbra Educação", "Education", "standard"), ("Fjord Media", "Media", "key"),
    ("Ísafold Tryggingar", "Insurance", "standard"), ("Maple Retail Group", "Retail", "key"),
    ("Sydhavn Software ApS", "Software", "key"), ("Algarve Turismo", "Travel", "standard"),
    ("Helix Biotech", "Biotech", "strategic"), ("Trondheim Data AS", None, "standard"),
    ("Northwind Traders", "Wholesale", None), ("Ribeiro & Filhos", "Construction", "standard"),
    ("Snæfell Hugbúnaður", "Software", "strategic"), ("Globex Corporation", "Manufacturing", "key"),
    ("Odense Elektronik", "Electronics", "standard"), ("Vestas-like Wind Co", "Energy", None),
    ("Silkeborg Papir", "Paper", "standard"), ("Açores Pescas", "Fishing", "standard"),
    ("Empty Shell Holding", "Finance", "standard"), ("Dormant Dynamics", None, None),
]


def build():
    contacts = []
    kinds = [k for k, n in plan() for _ in range(n)]
    while len(kinds) < 300:
        kinds.append(rng.choice(["mid", "low", "dormant_mailed", "customer", "many_clicks"]))
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds, start=1):
        c = Contact(f"c{i:03d}")
        c.kind = kind
        base(c)
        mailing = apply(c, kind)
        if kind not in ("dormant_mailed", "dormant_unmailed"):
            background(c, mailing=mailing and rng.random() < 0.75)
            # a second, light trait on some contacts
            if kind not in ("near_miss", "no_shows") and rng.random() < 0.15:
                rng.choice([decision_maker, gatherer])(c, True)
        contacts.append(c)

    accounts = [
        {"id": f"a{i:02d}", "name": n, "industry": ind, "employees": rng.choice([None, rng.randint(20, 20000)]), "tier": tier}
        for i, (n, ind, tier) in enumerate(ACCOUNT_NAMES, start=1)
    ]
    # a29 and a30 keep no contacts. Buying committees: hot leads together with a
    # decision maker (a01, a05, a08); a04 has a hot committee without one.
    hot_dm = [c for c in contacts if c.kind == "hot_dm"]
    hot_other = [c for c in contacts if c.kind in ("hot_other", "hot_gatherer")]
    committees = {"a01": [hot_dm[0], hot_other[0]], "a05": [hot_dm[1], hot_other[1], hot_other[2]],
                  "a08": [hot_dm[2], hot_dm[3]], "a04": [hot_other[3], hot_other[4]]}
    for aid, members in committees.items():
        for c in members:
            c.attrs["account"] = aid
    for c in hot_other[3:5]:
        c.attrs["job_title"] = rng.choice(GATHERER_TITLES)
    for c in contacts:
        if "account" not in c.attrs and rng.random() < 0.8:
            # a04's committee must stay without decision makers: only plain contacts join it
            choices = [a["id"] for a in accounts[:28] if a["id"] != "a04"]
            c.attrs["account"] = rng.choice(choices)
    return contacts, accounts


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def write(contacts, accounts):
    events, changes = [], []
    for c in contacts:
        times = [e[0] for e in c.events] + [ch[0] for ch in c.changes]
        first = min(times) if times else ago(400, 700)
        c.attrs["first_seen"] = ts(first - timedelta(days=rng.randint(1, 30)))
        for at, kind, fields in c.events:
            events.append((at, c.id, kind, fields))
        for at, attribute, value in c.changes:
            changes.append((at, c.id, attribute, value))
    # a handful of events after the as-of moment: every engine must ignore them
    for c in contacts[:5]:
        events.append((NOW + timedelta(hours=rng.randint(1, 48)), c.id, "page_viewed", {"url": "/pricing", "seconds": 60}))
    events.sort(key=lambda e: (e[0], e[1]))
    changes.sort(key=lambda e: (e[1], e[0]))

    with open(os.path.join(OUT, "contacts.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CONTACT_COLUMNS)
        for c in contacts:
            w.writerow([c.id] + [fmt(c.attrs.get(k)) for k in CONTACT_COLUMNS[1:]])
    with open(os.path.join(OUT, "events.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["contact_id", "event", "at"] + EVENT_FIELDS)
        for at, cid, kind, fields in events:
            w.writerow([cid, kind, ts(at)] + [fmt(fields.get(k)) for k in EVENT_FIELDS])
    with open(os.path.join(OUT, "accounts.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(ACCOUNT_COLUMNS)
        for a in accounts:
            w.writerow([fmt(a[k]) for k in ACCOUNT_COLUMNS])
    with open(os.path.join(OUT, "changes.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["contact_id", "attribute", "value", "at"])
        for at, cid, attribute, value in changes:
            w.writerow([cid, attribute, value, ts(at)])
    return len(events), len(changes)


if __name__ == "__main__":
    cs, accs = build()
    n_events, n_changes = write(cs, accs)
    print(f"{len(cs)} contacts, {n_events} events, {len(accs)} accounts, {n_changes} changes")
