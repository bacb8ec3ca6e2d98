// Sends with Segment's Node SDK (@segment/analytics-node) to `funnel serve`.
// Usage: node send.mjs HOST WRITE_KEY   (HOST like http://127.0.0.1:8088)
// Exits 1 when the SDK reports an error.
import { Analytics } from '@segment/analytics-node'

const [host, writeKey] = process.argv.slice(2)
const errors = []
const analytics = new Analytics({ writeKey, host, flushAt: 10, maxRetries: 2 })
analytics.on('error', (e) => errors.push(String(e && (e.reason || e.message || e.code))))
analytics.identify({ userId: 'js1', traits: { email: 'js1@example.com', plan: 'pro' } })
analytics.track({ userId: 'js1', event: 'Order Completed', properties: { amount: 7 } })
analytics.page({ userId: 'js1', properties: { url: '/docs' } })
analytics.group({ userId: 'js1', groupId: 'jsco', traits: { name: 'JS Co' } })
await analytics.closeAndFlush({ timeout: 20000 })
if (errors.length) {
  console.error(errors.join('\n'))
  process.exit(1)
}
