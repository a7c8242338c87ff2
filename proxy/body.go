package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// A request body must arrive at minBodyRate on average once its grace period (Options.BodyGrace,
// default DefaultBodyGrace) is over. http.Server's ReadTimeout cannot do this job: it also bounds
// the time to stream the answer. A fixed deadline would cut off a large image on a slow uplink,
// an idle-only one lets a body trickle in a byte at a time forever; a minimum rate does neither.
const (
	DefaultBodyGrace = 30 * time.Second
	minBodyRate      = 64 << 10 // bytes per second
)

// deadlineBody moves the connection's read deadline as a request body arrives: start + grace +
// what has been read / minBodyRate. At the end of the body it clears the deadline, so the rest
// of the exchange (a stream that runs for minutes) is not cut off. A body the handler never reads
// (a refused caller's) keeps the first deadline, which also bounds the server's discard of it.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	n     int64
}

// withBodyDeadline arms the read deadline for r's body; it does nothing for requests without a
// body, or when w is not a network connection (an in-process call).
func withBodyDeadline(w http.ResponseWriter, r *http.Request, grace time.Duration) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	if rc.SetReadDeadline(now.Add(grace)) != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, start: now, grace: grace}
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		_ = b.rc.SetReadDeadline(time.Time{})
	case err == nil && n > 0:
		allowed := b.grace + time.Duration(float64(b.n)/minBodyRate*float64(time.Second))
		_ = b.rc.SetReadDeadline(b.start.Add(allowed))
	}
	return n, err
}

// readBody reads the whole body, refusing one larger than limit before reading a byte of it when
// it says its length.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	n := r.ContentLength
	if n <= 0 || n > 1<<20 {
		n = 64 << 10
	}
	buf := make([]byte, 0, n+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// bodyError is the status and message for a body readBody could not read.
func bodyError(err error, limit int64) (int, string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is too large: the limit is %s (general_settings.max_request_size_mb).", sizeString(limit))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusRequestTimeout, fmt.Sprintf("the request body arrived too slowly: after its first seconds it must keep up %d KiB/s", minBodyRate>>10)
	}
	return http.StatusBadRequest, "could not read the request body: " + err.Error()
}
