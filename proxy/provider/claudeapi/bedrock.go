package claudeapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/bedrock"
)

// Bedrock is a Claude deployment on Amazon Bedrock: chat completions go to the embedded
// provider (Converse), Messages to InvokeModel in Anthropic's envelope.
type Bedrock struct {
	provider.Provider
	invoke *bedrock.Provider // the same deployment, for InvokeModel
	betas  http.Header       // the deployment's extra anthropic-beta, if any
}

// WrapBedrock gives chat, the chat provider of a Claude deployment on Bedrock, a Messages
// pass-through through invoke. headers are the deployment's extra headers: an anthropic-beta
// among them joins the client's in the body's anthropic_beta.
func WrapBedrock(chat provider.Provider, invoke *bedrock.Provider, headers map[string]string) *Bedrock {
	b := &Bedrock{Provider: chat, invoke: invoke, betas: http.Header{}}
	for k, v := range headers {
		if strings.EqualFold(k, "anthropic-beta") {
			b.betas.Add("Anthropic-Beta", v)
		}
	}
	return b
}

// IsClaude reports whether a Bedrock model id names an Anthropic model (a foundation model,
// a cross-region profile such as us.anthropic.claude-..., or LiteLLM's invoke/ form).
func IsClaude(model string) bool { return strings.Contains(model, "claude") }

// Messages sends req to InvokeModel (InvokeModelWithResponseStream for a stream): the body
// without model and stream, with anthropic_version "bedrock-2023-05-31" and the anthropic-beta
// features as anthropic_beta. The stream's chunk events carry Anthropic's events, base64-encoded
// in {"bytes":...}; they are handed on decoded.
func (b *Bedrock) Messages(ctx context.Context, req *Request) (*Response, error) {
	body, err := ForBedrock(req.Body, Betas(req.Header, b.betas))
	if err != nil {
		return nil, badRequest("invalid JSON body: " + err.Error())
	}
	resp, err := b.invoke.Invoke(ctx, req.Model, body, req.Stream)
	if err != nil {
		return nil, err
	}
	return answer(ctx, resp, "bedrock", req.Stream, "application/vnd.amazon.eventstream", func(body io.ReadCloser) Stream {
		return &invokeStream{body: body, r: bufio.NewReaderSize(body, 32<<10), dec: eventstream.NewDecoder()}
	})
}

// invokeStream reads InvokeModelWithResponseStream's AWS event stream.
type invokeStream struct {
	body    io.ReadCloser
	r       *bufio.Reader
	dec     *eventstream.Decoder
	payload []byte
	data    []byte
}

// exceptionStatus is the HTTP status Bedrock documents for each stream exception.
var exceptionStatus = map[string]int{
	"throttlingException": http.StatusTooManyRequests, "serviceUnavailableException": http.StatusServiceUnavailable,
	"validationException": http.StatusBadRequest, "modelStreamErrorException": http.StatusInternalServerError,
	"modelTimeoutException": http.StatusRequestTimeout, "internalServerException": http.StatusInternalServerError,
}

func (s *invokeStream) Next() ([]byte, []byte, error) {
	for {
		if _, err := s.r.Peek(1); err == io.EOF {
			return nil, nil, io.EOF
		}
		msg, err := s.dec.Decode(s.r, s.payload[:0])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, nil, &provider.Error{Status: http.StatusBadGateway, Type: "api_connection_error", Transport: true,
					Message: "bedrock: upstream closed the event stream in the middle of a frame", Err: io.ErrUnexpectedEOF}
			}
			return nil, nil, provider.AsError(err)
		}
		s.payload = msg.Payload
		switch header(msg.Headers, ":message-type") {
		case "exception", "error":
			typ := header(msg.Headers, ":exception-type")
			var m struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(msg.Payload, &m)
			status := exceptionStatus[typ]
			if status == 0 {
				status = http.StatusInternalServerError
			}
			return nil, nil, &provider.Error{Status: status, Type: typ, Message: "bedrock: " + typ + ": " + m.Message}
		}
		if header(msg.Headers, ":event-type") != "chunk" {
			continue
		}
		var c struct {
			Bytes string `json:"bytes"`
		}
		if err := json.Unmarshal(msg.Payload, &c); err != nil {
			return nil, nil, &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: "bedrock: a chunk event that is not JSON"}
		}
		s.data, err = base64.StdEncoding.AppendDecode(s.data[:0], []byte(c.Bytes))
		if err != nil {
			return nil, nil, &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: "bedrock: a chunk event whose bytes are not base64"}
		}
		return eventType(s.data), s.data, nil
	}
}

func (s *invokeStream) Buffered() int { return s.r.Buffered() }

func (s *invokeStream) Close() error { return s.body.Close() }

func header(h eventstream.Headers, name string) string {
	if v, ok := h.Get(name).(eventstream.StringValue); ok {
		return string(v)
	}
	return ""
}
