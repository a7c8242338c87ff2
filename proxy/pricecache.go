package proxy

// ResetPriceCache drops every cached deployment price, so that the next request prices with the
// table in force: call it after pricing.SetCostMap.
func ResetPriceCache() {
	prices.Clear()
	pricesSize.Store(0)
}
