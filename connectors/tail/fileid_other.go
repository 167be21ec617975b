//go:build !unix

package tail

import "os"

const platformSupported = false

type fileID struct{ dev, ino uint64 }

func statID(fi os.FileInfo) (fileID, bool) { return fileID{}, false }
