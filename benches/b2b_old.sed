# The "old" version of the b2b example for the benchmark's `funnel diff OLD NEW`: the
# example with a few thresholds changed, as a review of a tuning change would see it.
# benches/run.sh applies it to copies of examples/b2b/*.funnel and stops when a line
# below no longer changes anything.
s/^tiers readiness of sales_ready { low 0\.\.30, middle 31\.\.75, high 76\.\.100 }$/tiers readiness of sales_ready { low 0..25, middle 26..70, high 71..100 }/
s/^   +4 per readiness_page, at most 32 /   +5 per readiness_page, at most 30 /
s/^segment soft_bounced_often = soft_bounce at least 4 times /segment soft_bounced_often = soft_bounce at least 3 times /
s/^segment weekly_readers = blog_visit in at least 3 of the last 4 weeks$/segment weekly_readers = blog_visit in at least 2 of the last 4 weeks/
s/^  committee >= 150 and /  committee >= 120 and /
