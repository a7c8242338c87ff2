package bedrock

import "github.com/clawgate/clawgate/proxy/internal/wire"

// marshal and appendString are wire's, named here for the translation code and its tests.
var (
	marshal      = wire.Marshal
	appendString = wire.AppendString
)
