"""powerfs: a FUSE pass-through file system that loses unsynced writes.

    python3 powerfs.py BACKING MOUNTPOINT

Every file under MOUNTPOINT is the file of the same name under BACKING.  A
write goes to the backing file at once, so reads and mmap see it, but it
stays *pending*: the layer keeps the bytes it overwrote.  fsync/fdatasync
of a file makes all of that file's pending writes durable; a write through
a descriptor opened with O_DSYNC or O_SYNC is durable by itself.

Commands, one per line on standard input, each answered on standard output:
  pending   how many pending bytes, "pending N"
  crash     power loss: every pending write is undone (overwritten bytes put
            back, files cut to their durable size), the layer stops
            accepting writes (EIO), "crashed N"
End of input or SIGTERM unmounts.  "ready" is printed once mounted.

Only data is modelled: create, unlink, rename, mkdir and truncate are
durable at once (truncate first makes the file's pending writes durable).
Linux follows a write through an O_DSYNC descriptor on a FUSE mount with an
fsync of the whole file, so there the file's earlier pending writes become
durable too: laxer than a disk, which is harmless for LMDB, whose commit
fdatasyncs the data pages before it writes the meta page through its
O_DSYNC descriptor.
The kernel caches pages of the mount, so after a crash unmount and mount
again before reading.
"""
import errno
import os
import signal
import sys
import threading

try:
    from fusepy import FUSE, FuseOSError, Operations      # Debian's python3-fusepy
except ImportError:
    from fuse import FUSE, FuseOSError, Operations        # pip's fusepy

SYNC_FLAGS = os.O_DSYNC | os.O_SYNC


class Pending:
    """The unsynced writes of one file: its durable size and, in write
    order, the bytes each write overwrote (zeros past the end of file)."""

    def __init__(self, size):
        self.size = size
        self.undo = []

    def durable(self, off, end):
        """[off, end) was written durably: forget what it overwrote."""
        kept = []
        for o, old in self.undo:
            e = o + len(old)
            if e <= off or o >= end:
                kept.append((o, old))
                continue
            if o < off:
                kept.append((o, old[:off - o]))
            if e > end:
                kept.append((end, old[end - o:]))
        self.undo = kept
        self.size = max(self.size, end)

    def bytes(self):
        return sum(len(old) for _, old in self.undo)


class PowerFS(Operations):
    use_ns = True

    def __init__(self, backing):
        self.root = os.path.realpath(backing)
        self.mutex = threading.Lock()
        self.files = {}          # path -> Pending
        self.sync_fds = set()    # descriptors opened with O_DSYNC/O_SYNC
        self.crashed = False

    def _p(self, path):
        return self.root + path

    # -- the part that matters ------------------------------------------
    def write(self, path, data, offset, fi):
        with self.mutex:
            if self.crashed:
                raise FuseOSError(errno.EIO)
            fd = fi.fh
            st = self.files.get(path)
            if fi.fh in self.sync_fds:
                if st:
                    st.durable(offset, offset + len(data))
            else:
                if st is None:
                    st = self.files[path] = Pending(os.fstat(fd).st_size)
                old = os.pread(fd, len(data), offset)
                st.undo.append((offset, old + bytes(len(data) - len(old))))
            return os.pwrite(fd, data, offset)

    def fsync(self, path, datasync, fi):
        with self.mutex:
            if self.crashed:
                raise FuseOSError(errno.EIO)
            self.files.pop(path, None)
        return 0

    def truncate(self, path, length, fi=None):
        with self.mutex:
            if self.crashed:
                raise FuseOSError(errno.EIO)
            self.files.pop(path, None)
            os.truncate(self._p(path), length)

    def crash(self):
        with self.mutex:
            lost = 0
            for path, st in self.files.items():
                lost += st.bytes()
                try:
                    fd = os.open(self._p(path), os.O_WRONLY)
                except FileNotFoundError:
                    continue
                for off, old in reversed(st.undo):
                    os.pwrite(fd, old, off)
                os.ftruncate(fd, st.size)
                os.close(fd)
            self.files.clear()
            self.crashed = True
            return lost

    def pending(self):
        with self.mutex:
            return sum(st.bytes() for st in self.files.values())

    # -- plain pass-through ---------------------------------------------
    def _open(self, path, flags, mode=0o644):
        # Always read-write: a write must read what it overwrites.
        clean = flags & ~(os.O_ACCMODE | os.O_APPEND | SYNC_FLAGS | os.O_TRUNC)
        fd = os.open(self._p(path), clean | os.O_RDWR, mode)
        if flags & SYNC_FLAGS:
            self.sync_fds.add(fd)
        return fd

    def open(self, path, fi):
        with self.mutex:
            fi.fh = self._open(path, fi.flags)
        return 0

    def create(self, path, mode, fi):
        with self.mutex:
            fi.fh = self._open(path, fi.flags | os.O_CREAT, mode)
        return 0

    def release(self, path, fi):
        with self.mutex:
            self.sync_fds.discard(fi.fh)
            os.close(fi.fh)
        return 0

    def read(self, path, size, offset, fi):
        return os.pread(fi.fh, size, offset)

    def flush(self, path, fi):
        return 0

    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        attrs = {k: getattr(st, k) for k in (
            "st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_blocks")}
        for k in ("st_atime", "st_mtime", "st_ctime"):
            attrs[k] = getattr(st, k + "_ns")
        return attrs

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        with self.mutex:
            self.files.pop(path, None)
            os.unlink(self._p(path))

    def rename(self, old, new):
        with self.mutex:
            if old in self.files:
                self.files[new] = self.files.pop(old)
            os.rename(self._p(old), self._p(new))

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._p(path), ns=times)

    def statfs(self, path):
        sv = os.statvfs(self._p(path))
        return {k: getattr(sv, k) for k in (
            "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
            "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def init(self, path):
        threading.Thread(target=self._commands, daemon=True).start()
        print("ready", flush=True)

    def _commands(self):
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "crash":
                print("crashed %d" % self.crash(), flush=True)
            elif cmd == "pending":
                print("pending %d" % self.pending(), flush=True)
            else:
                print("unknown command %r" % cmd, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)     # libfuse unmounts


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: powerfs.py BACKING MOUNTPOINT")
    FUSE(PowerFS(sys.argv[1]), sys.argv[2], raw_fi=True, foreground=True,
         big_writes=True, max_write=131072, fsname="powerfs")


if __name__ == "__main__":
    main()
