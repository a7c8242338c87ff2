package keychain

// NewService returns a Store over the OS keychain under service instead of Service: tests of
// other packages keep their items apart from a user's real "clawgate" ones.
func NewService(service string) *Store {
	s := New()
	s.service = service
	return s
}
