package glue

// KnowsItem reports whether the node holds a shared item (cluster mode).
func (s *Service) KnowsItem(parts ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.items[itemKey(parts...)]
	return ok
}
