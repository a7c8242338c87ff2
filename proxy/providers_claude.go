package proxy

import (
	"context"
	"os"
	"strings"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/bedrock"
	"github.com/clawgate/clawgate/proxy/provider/claudeapi"
	"github.com/clawgate/clawgate/proxy/route"
)

// withMessages is f with every Claude deployment (Anthropic's API, Claude on Vertex AI or on
// Bedrock) also taking Anthropic's Messages API as it is, so /v1/messages passes through to it
// untranslated (passMessages). Chat completions still go to what f built. A deployment whose
// pass-through cannot be set up (no credentials) keeps f's provider alone: its chat calls say why.
func withMessages(f route.Factory) route.Factory {
	return func(d config.Deployment, prefix, model string) (provider.Provider, error) {
		p, err := f(d, prefix, model)
		if err != nil {
			return p, err
		}
		str := func(k string) string { v, _ := d.Params.Extra[k].(string); return v }
		switch {
		case prefix == "anthropic":
			return claudeapi.Wrap(p, claudeapi.Options{APIBase: d.Params.APIBase, APIKey: firstSet(d.Params.APIKey, os.Getenv("ANTHROPIC_API_KEY")),
				Headers: d.Params.ExtraHeaders}), nil
		case prefix == "vertex_ai" && strings.HasPrefix(model, "claude"):
			w, err := claudeapi.WrapVertex(p, claudeapi.VertexOptions{Project: str("vertex_project"), Location: str("vertex_location"),
				Credentials: str("vertex_credentials"), APIBase: d.Params.APIBase, Headers: d.Params.ExtraHeaders})
			if err != nil {
				return p, nil
			}
			return w, nil
		case prefix == "bedrock" && claudeapi.IsClaude(model):
			b, err := bedrock.New(context.Background(), bedrockOptions(d, 0))
			if err != nil {
				return p, nil
			}
			return claudeapi.WrapBedrock(p, b, d.Params.ExtraHeaders), nil
		}
		return p, nil
	}
}

// bedrockOptions reads a bedrock/ deployment's litellm_params (LiteLLM's aws_* keys).
func bedrockOptions(d config.Deployment, maxOut int) bedrock.Options {
	str := func(k string) string { v, _ := d.Params.Extra[k].(string); return v }
	return bedrock.Options{
		Region: str("aws_region_name"), AccessKeyID: str("aws_access_key_id"), SecretAccessKey: str("aws_secret_access_key"),
		SessionToken: str("aws_session_token"), Profile: str("aws_profile_name"), APIKey: d.Params.APIKey,
		Endpoint: firstSet(d.Params.APIBase, str("aws_bedrock_runtime_endpoint")), Headers: d.Params.ExtraHeaders, MaxTokens: maxOut,
	}
}
