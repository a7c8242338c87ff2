package app

import (
	"sync"
	"sync/atomic"

	"github.com/clawgate/clawgate/proxy"
)

// EventRequests says a request's usage was recorded: the spend log, the Overview and the budgets'
// spend have moved. It goes only to SubscribeChanges, never to Subscribe, so the tray is not
// rebuilt per request; a read after it sees the row (the windows' reads flush pending usage first).
const EventRequests EventKind = EventAlert + 1

// broker fans events out to subscribers. Each subscriber has a small queue; when it is full the
// oldest event is dropped, so a slow tray never blocks the gateway (status events are snapshots,
// so only the latest matters; alerts are rare).
type broker struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func newBroker() *broker { return &broker{subs: map[chan Event]struct{}{}} }

func (b *broker) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 32)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
		})
	}
}

func (b *broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		for {
			select {
			case ch <- e:
			default:
				select {
				case <-ch: // full: drop the oldest
				default:
				}
				continue
			}
			break
		}
	}
}

// counter counts requests, passes usage on, and tells the change subscribers.
type counter struct {
	n       atomic.Int64
	next    proxy.UsageSink
	once    sync.Once
	changes *broker // made on first use, so the App needs no field for it
}

func (c *counter) broker() *broker {
	c.once.Do(func() { c.changes = newBroker() })
	return c.changes
}

func (c *counter) Record(u proxy.Usage) {
	c.n.Add(1)
	if c.next != nil {
		c.next.Record(u)
	}
	c.broker().publish(Event{Kind: EventRequests})
}

// SubscribeChanges delivers EventRequests while the subscription lasts; the open windows re-read
// on it (throttled) instead of polling. Call the returned func to unsubscribe.
func (a *App) SubscribeChanges() (<-chan Event, func()) { return a.counts.broker().subscribe() }
