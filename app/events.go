package app

import (
	"sync"
	"sync/atomic"

	"github.com/clawgate/clawgate/proxy"
)

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

// counter counts requests and passes usage on.
type counter struct {
	n    atomic.Int64
	next proxy.UsageSink
}

func (c *counter) Record(u proxy.Usage) {
	c.n.Add(1)
	if c.next != nil {
		c.next.Record(u)
	}
}
