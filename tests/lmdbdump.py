"""A stopped store's databases as Python lists, through lmdb-utils.

Dump(dir) reads every named database with `mdb_dump -a`; tests change the
(key, value) pairs of a database (bytes) to corrupt a copy on purpose, and
write() loads the result into a new directory with `mdb_load`."""
import os
import subprocess
import tempfile


class Dump:
    def __init__(self, data):
        text = subprocess.run(["mdb_dump", "-a", data], check=True,
                              capture_output=True, text=True).stdout
        self.sections = []          # [name, header lines, [[key, value], ...]]
        lines = iter(text.splitlines())
        for line in lines:
            if line != "VERSION=3":
                continue
            header, name = [line], None
            for h in lines:
                header.append(h)
                if h.startswith("database="):
                    name = h.split("=", 1)[1]
                if h == "HEADER=END":
                    break
            pairs = []
            for k in lines:
                if k == "DATA=END":
                    break
                v = next(lines)
                pairs.append([bytes.fromhex(k.strip()), bytes.fromhex(v.strip())])
            self.sections.append([name, header, pairs])

    def db(self, name):
        """The (mutable) list of [key, value] pairs of one database."""
        for sec in self.sections:
            if sec[0] == name:
                return sec[2]
        raise KeyError(name)

    def write(self, dest):
        """Loads every database into the new directory dest."""
        os.makedirs(dest, exist_ok=True)
        out = []
        for name, header, pairs in self.sections:
            out += header
            for k, v in sorted(pairs):
                out += [" " + k.hex(), " " + v.hex()]
            out.append("DATA=END")
        with tempfile.NamedTemporaryFile("w", suffix=".dump", delete=False) as f:
            f.write("\n".join(out) + "\n")
        try:
            subprocess.run(["mdb_load", "-f", f.name, dest], check=True,
                           capture_output=True)
        finally:
            os.unlink(f.name)
