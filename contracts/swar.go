package contracts

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// jsonSafe8 reports whether none of the 8 bytes of x needs attention in a JSON
// string: no control character (< 0x20), no '"', no '\\' and no non-ASCII byte.
// (Bit tricks from "Bit Twiddling Hacks": hasless and haszero; they may report a
// false "unsafe", which only sends the bytes down the slow path.)
func jsonSafe8(x uint64) bool {
	ctl := (x - swarLo*0x20) & ^x
	quo := x ^ (swarLo * '"')
	bsl := x ^ (swarLo * '\\')
	quo = (quo - swarLo) & ^quo
	bsl = (bsl - swarLo) & ^bsl
	return (ctl|quo|bsl|x)&swarHi == 0
}

func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}
