package contracts

// The decoder's two paths, for the external tests of decode_test.go: they
// parse sample lines with connectors/sshlog, which imports this package and
// so cannot be imported by its internal tests.

// DecodeFlat is decodeFlat.
func DecodeFlat(data []byte, e *Event) bool { return decodeFlat(data, e) }

// UnmarshalStd is unmarshalStd.
func (e *Event) UnmarshalStd(data []byte) error { return e.unmarshalStd(data) }
