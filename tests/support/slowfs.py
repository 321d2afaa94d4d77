#!/usr/bin/python3
"""A filesystem for tests: mirrors a directory read-only, answers lookups and attributes at
once, and every read of file data only after a delay -- a network filesystem (NFS, CIFS,
sshfs) that has become very slow. Each request still ends, so a reader blocked in one can be
killed within the delay.

Usage: slowfs.py SOURCE MOUNTPOINT DELAY_MS   (prints "ready" once mounted; needs llfuse)
"""
import errno
import itertools
import os
import sys
import time

import llfuse


class SlowFs(llfuse.Operations):
    def __init__(self, source, delay):
        super().__init__()
        self.delay = delay
        self.paths = {llfuse.ROOT_INODE: source}
        self.inodes = {source: llfuse.ROOT_INODE}
        self.next_inode = itertools.count(llfuse.ROOT_INODE + 1)

    def _inode(self, path):
        inode = self.inodes.get(path)
        if inode is None:
            inode = next(self.next_inode)
            self.paths[inode] = path
            self.inodes[path] = inode
        return inode

    def _attr(self, path, inode):
        try:
            st = os.lstat(path)
        except OSError as e:
            raise llfuse.FUSEError(e.errno)
        a = llfuse.EntryAttributes()
        a.st_ino = inode
        a.st_mode = st.st_mode
        a.st_nlink = st.st_nlink
        a.st_uid = st.st_uid
        a.st_gid = st.st_gid
        a.st_size = st.st_size
        a.st_atime_ns = st.st_atime_ns
        a.st_mtime_ns = st.st_mtime_ns
        a.st_ctime_ns = st.st_ctime_ns
        a.attr_timeout = 60
        a.entry_timeout = 60
        return a

    def lookup(self, parent, name, ctx=None):
        path = os.path.join(self.paths[parent], os.fsdecode(name))
        return self._attr(path, self._inode(path))

    def getattr(self, inode, ctx=None):
        return self._attr(self.paths[inode], inode)

    def readlink(self, inode, ctx):
        return os.fsencode(os.readlink(self.paths[inode]))

    def opendir(self, inode, ctx):
        return inode

    def readdir(self, fh, off):
        names = sorted(os.listdir(self.paths[fh]))
        for i, n in enumerate(names[off:], off):
            path = os.path.join(self.paths[fh], n)
            yield (os.fsencode(n), self._attr(path, self._inode(path)), i + 1)

    def releasedir(self, fh):
        pass

    def access(self, inode, mode, ctx):
        return True

    def open(self, inode, flags, ctx):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise llfuse.FUSEError(errno.EROFS)
        return os.open(self.paths[inode], os.O_RDONLY)

    def read(self, fh, off, size):
        with llfuse.lock_released:
            time.sleep(self.delay)
            return os.pread(fh, size, off)

    def release(self, fh):
        os.close(fh)


def main():
    source, mountpoint, delay_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
    llfuse.init(SlowFs(os.path.abspath(source), delay_ms / 1000), mountpoint, ["fsname=slowfs", "ro"])
    print("ready", flush=True)
    try:
        llfuse.main(workers=8)
    finally:
        llfuse.close(unmount=True)


if __name__ == "__main__":
    main()
