package proxy

// hdrMaxTokensLowered says that a request's max_tokens was above what the model can write and
// was lowered to it: "32000->16384".
const hdrMaxTokensLowered = "X-Clawgate-Max-Tokens-Lowered"

// maxOutputOf is the most output every deployment of model's group can write (the price table's
// max_output_tokens, or model_info's), 0 when none is known. A request asking more would be
// refused by the upstream; Claude Code asks 32,000 of whatever model it is pointed at.
func maxOutputOf(st *state, model string) int {
	group, ok := st.router.Lookup(model)
	if !ok {
		return 0
	}
	limit := 0
	for _, d := range st.deps {
		if d.Group != group {
			continue
		}
		if mo := maxOutput(priceFor(d, upstreamFor(d, model))); mo > 0 && (limit == 0 || mo < limit) {
			limit = mo
		}
	}
	return limit
}
