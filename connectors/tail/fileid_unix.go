//go:build unix

package tail

import (
	"os"
	"syscall"
)

const platformSupported = true

type fileID struct{ dev, ino uint64 }

// statID returns the device and inode of fi.
func statID(fi os.FileInfo) (fileID, bool) {
	if fi == nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // Dev is int32 on some platforms
}
