#!/bin/sh
# Regenerates the user-data samples in this directory with cloud-init's own
# tools (Debian's cloud-init package), so the parser's tests cover what
# operators really produce. Run from this directory. The MIME boundaries are
# random, so every run changes the files and their sizes: review and refresh
# the .golden expectations after it (go test ./bootstrap/userdata -update).
set -eu

mime() { cloud-init devel make-mime "$@" -f 2>/dev/null; }

mime -a cloud.yaml:cloud-config -a ec2boot.toml:x-ec2boot > multipart.mime
gzip -9n < multipart.mime > multipart.mime.gz
mime -a ec2boot.toml:x-ec2boot-toml -a script.sh:x-shellscript > multipart-toml-type.mime
mime -a cloud.yaml:cloud-config -a ec2boot.toml:plain > multipart-by-filename.mime
mime -a cloud.yaml:cloud-config -a script.sh:x-shellscript > multipart-without-ours.mime
gzip -9n < ec2boot.toml > raw.toml.gz

# make-mime reads its inputs as text, so a gzip-compressed part and a nested
# archive are built with the same Python email package it uses, and checked
# with cloud-init's own user-data processor below.
/usr/bin/python3 - <<'PY'
import gzip
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email import charset

def text(path, subtype):
    part = MIMEText(open(path).read(), subtype, "utf-8")
    part.add_header("Content-Disposition", 'attachment; filename="%s"' % path)
    return part

# Our part gzip-compressed, typed the way cloud-init types gzip parts.
gz = MIMEApplication(gzip.compress(open("ec2boot.toml", "rb").read(), mtime=0), "x-gzip")
gz.add_header("Content-Disposition", 'attachment; filename="ec2boot.toml"')
outer = MIMEMultipart()
outer.attach(text("cloud.yaml", "cloud-config"))
outer.attach(gz)
open("multipart-gzip-part.mime", "w").write(outer.as_string() + "\n")

# A multipart inside a multipart: cloud-init walks into it.
inner = MIMEMultipart()
inner.attach(text("script.sh", "x-shellscript"))
inner.attach(text("ec2boot.toml", "x-ec2boot"))
outer = MIMEMultipart()
outer.attach(text("cloud.yaml", "cloud-config"))
outer.attach(inner)
open("multipart-nested.mime", "w").write(outer.as_string() + "\n")

# Quoted-printable instead of base64.
qp = charset.Charset("utf-8")
qp.body_encoding = charset.QP
part = MIMEText(open("ec2boot.toml").read(), "x-ec2boot", qp)
part.add_header("Content-Disposition", 'attachment; filename="ec2boot.toml"')
outer = MIMEMultipart()
outer.attach(text("script.sh", "x-shellscript"))
outer.attach(part)
open("multipart-quoted-printable.mime", "w").write(outer.as_string() + "\n")
PY

# cloud-init's own processor must see every sample's parts.
/usr/bin/python3 - <<'PY'
import glob, tempfile
from cloudinit import helpers, user_data
tmp = tempfile.mkdtemp()
for f in sorted(glob.glob("*.mime") + glob.glob("*.mime.gz")):
    msg = user_data.UserDataProcessor(helpers.Paths({"cloud_dir": tmp + "/cloud", "run_dir": tmp + "/run"})).process(open(f, "rb").read())
    parts = [(p.get_content_type(), p.get_filename()) for p in msg.walk() if not p.is_multipart()]
    print(f, parts)
PY
