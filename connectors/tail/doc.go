// Package tail follows log files matched by glob patterns and hands their
// complete lines out in chunks, with a crash-safe registry of acknowledged
// offsets.
//
// # Delivery contract
//
// Run reads files and sends *Chunk values on its output channel. A consumer
// (the Kafka publisher) calls Ack once a chunk is durable downstream. The
// registry stores, per file, only the end of the longest contiguous prefix of
// acknowledged chunks; it is written at most once a second and when Run
// returns (temp file + fsync + rename + fsync of the directory). After a
// SIGKILL at any moment, a new Tailer resumes every file at its acknowledged
// offset, so unacknowledged chunks are read and sent again — with the same
// path, offsets and bytes, hence the same line ids downstream — and nothing
// is lost or skipped.
//
// # Lines
//
// A line is the bytes up to '\n'; Text excludes the '\n' and a '\r' right
// before it. A line whose text is longer than MaxLineBytes is cut to at most
// MaxLineBytes bytes (backed off to a UTF-8 rune boundary when the cut falls
// inside a multi-byte rune) and marked Truncated; the rest of it up to its
// '\n' is skipped but counted in offsets, so the next line starts at its true
// offset and a line is never split into two events. Bytes are passed on as
// they are (binary data included).
//
// An unterminated final line is held back until the file has not grown for
// FlushTimeout; it is then emitted once, as a line ending at the file's end
// (a trailing '\r' is stripped). If bytes without a '\n' are appended later,
// they are the beginning of the next line: the text written after the flush
// becomes a line of its own, starting at the offset where the flushed line
// ended. Half lines are never emitted otherwise.
//
// # File identity
//
// A file is identified by device + inode, checked against a fingerprint of
// its first bytes (see FileKey). While a file is tracked its descriptor stays
// open, so its inode cannot be reused by another file in the meantime; the
// fingerprint matters when matching registry entries after a restart (an
// inode reused by a new file is not taken for the old one) and for noticing a
// file rewritten in place (copytruncate followed by quick growth).
//
// # Rotation
//
//   - rename + create (logrotate's default): the renamed file keeps being read
//     through its open descriptor until its end; it is closed and removed from
//     the registry once it is read to its end, every chunk of it is
//     acknowledged, and it has not changed for CloseInactive. The new file at
//     the path is read from its beginning. Chunks of the old file keep the
//     path they were discovered under (Chunk.Path), so ids stay stable.
//   - copytruncate, or any shrink: the file is read again from offset 0 (the
//     registry entry is reset to 0 at once, logged as a warning). A file whose
//     first bytes changed while it grew (truncated and refilled between two
//     polls) is treated the same way.
//   - deletion: what is still readable through the open descriptor is read,
//     then the file is dropped like a rotated one.
//   - new files matching a glob are picked up at the next poll and read from
//     their beginning. At start-up, files without a registry entry start at
//     their beginning (FromStart) or after their last complete line; a file
//     at a path the registry knows but with another identity (replaced while
//     the tailer was down) is read from its beginning.
//   - rotation while the tailer was down: a registry entry whose file is no
//     longer at its path is looked for (by device, inode and fingerprint) in
//     the same directory, e.g. as ssh-a.log.1, and read to its end from its
//     acknowledged offset.
//
// # Back-pressure
//
// At most MaxInflight chunks (over all files) are handed out and not yet
// acknowledged; Run stops reading while that many are outstanding. Memory is
// bounded by MaxInflight chunks of at most ChunkBytes (plus one line), one
// read buffer, and a MaxLineBytes prefix per file in the middle of an
// oversized line.
package tail
