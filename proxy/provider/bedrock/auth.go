package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// signingName is the service name in Bedrock Runtime's SigV4 credential scope.
const signingName = "bedrock"

// bearerEnv is the environment variable AWS's SDKs read a Bedrock API key from.
const bearerEnv = "AWS_BEARER_TOKEN_BEDROCK"

// auth signs one request: with a Bedrock API key as a bearer token, or with SigV4.
type auth struct {
	bearer string // "Bearer <key>"; when set, no SigV4
	creds  aws.CredentialsProvider
	signer *v4.Signer
	region string
}

// newAuth resolves how to authenticate and which region to sign for. Explicit keys win; then a
// Bedrock API key (Options.APIKey, else AWS_BEARER_TOKEN_BEDROCK unless a profile is named);
// then the SDK's default chain (environment, shared config and credentials files with
// Options.Profile, SSO, web identity, container and instance roles). Credentials are fetched
// (and refreshed, cached) when a request is signed, not here, so New does no network I/O.
func newAuth(ctx context.Context, o *Options, getenv func(string) string) (*auth, error) {
	a := &auth{region: o.Region}
	if o.AccessKeyID != "" || o.SecretAccessKey != "" {
		if o.AccessKeyID == "" || o.SecretAccessKey == "" {
			return nil, errors.New("bedrock: aws_access_key_id and aws_secret_access_key must be set together")
		}
		a.creds = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken))
	} else {
		key := o.APIKey
		if key == "" && o.Profile == "" {
			key = getenv(bearerEnv)
		}
		if key != "" {
			a.bearer = "Bearer " + key
		}
	}
	needConfig := a.region == "" || (a.bearer == "" && a.creds == nil)
	if a.bearer != "" && o.Endpoint != "" {
		needConfig = false // a bearer token to an explicit endpoint needs no region
	}
	if needConfig {
		var opts []func(*config.LoadOptions) error
		if o.Region != "" {
			opts = append(opts, config.WithRegion(o.Region))
		}
		if o.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(o.Profile))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("bedrock: loading AWS configuration: %w", err)
		}
		if a.region == "" {
			a.region = cfg.Region
		}
		if a.bearer == "" && a.creds == nil {
			a.creds = cfg.Credentials
		}
	}
	if a.region == "" && (a.bearer == "" || o.Endpoint == "") {
		return nil, errors.New("bedrock: no AWS region: set aws_region_name (or AWS_REGION)")
	}
	if a.bearer == "" {
		if a.creds == nil {
			return nil, errors.New("bedrock: no AWS credentials: set aws_access_key_id and aws_secret_access_key, aws_profile_name, an API key, or the AWS environment")
		}
		a.signer = v4.NewSigner()
	}
	return a, nil
}

// sign authenticates req, whose body is body. With SigV4 every header already set is signed, so
// sign must come last.
func (a *auth) sign(ctx context.Context, req *http.Request, body []byte) error {
	if a.bearer != "" {
		req.Header.Set("Authorization", a.bearer)
		return nil
	}
	creds, err := a.creds.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return failure(ctx, "fetching AWS credentials", err)
		}
		return &provider.Error{
			Status: http.StatusUnauthorized, Type: "authentication_error", Err: err,
			Message: httpx.Truncate("bedrock: no usable AWS credentials: "+err.Error(), httpx.MaxMessage),
		}
	}
	sum := sha256.Sum256(body)
	if err := a.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, a.region, now()); err != nil {
		return &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "bedrock: signing request: " + err.Error(), Err: err}
	}
	return nil
}
