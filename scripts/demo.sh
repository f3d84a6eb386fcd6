#!/bin/bash
# make demo: the whole boot job on local peers, no AWS. Everything listens on
# 127.0.0.1; every path ec2boot touches is under demo/root (--root).
#
#   AWS's IMDS emulator      one per "instance", serving its instance-id,
#                            addresses and user-data (IMDSv2 only)
#   ec2boot-testpeers        a dyndns2 provider and the authoritative DNS
#                            server of example.test, fed by the provider
set -euo pipefail
cd "$(dirname "$0")/.."

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port: a random unused loopback port (ports 20000-39999).
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		port_free "$p" && { echo "$p"; return; }
	done
	echo "no free port on 127.0.0.1" >&2
	return 1
}
HTTP_PORT=${DEMO_HTTP_PORT:-$(free_port)}
DNS_PORT=${DEMO_DNS_PORT:-$(free_port)}
IMDS_WEB1=${DEMO_IMDS_PORT:-$(free_port)}
IMDS_WEB2=$(free_port)
BIN=$PWD/bin
RUN=$PWD/demo/run
ROOT=$PWD/demo/root          # web-1's "/"
ROOT2=$PWD/demo/root-web-2   # web-2's "/"
AEMM=$(command -v ec2-metadata-mock) || { echo "ec2-metadata-mock not found: run 'make tools'" >&2; exit 1; }

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ec2boot() { "$BIN/ec2boot" "$@" --log-format console; }

# wait_for CMD...: retry for up to 5 s.
wait_for() {
	for _ in $(seq 1 250); do "$@" >/dev/null 2>&1 && return 0; sleep 0.02; done
	echo "timed out waiting for: $*" >&2
	return 1
}

rm -rf "$RUN" "$ROOT" "$ROOT2"
mkdir -p "$RUN"

# An image as an operator bakes it: /etc/hosts, the local config, the
# provider secret (0600), the shipped templates.
bake() {
	local root=$1
	mkdir -p "$root/etc/ec2boot/templates"
	cp demo/hosts "$root/etc/hosts"
	sed -e "s|@HTTP@|http://127.0.0.1:$HTTP_PORT|" -e "s|@DNS@|127.0.0.1:$DNS_PORT|" -e "s|@RUN@|$RUN|" \
		demo/config.toml.in > "$root/etc/ec2boot/config.toml"
	install -m 0600 /dev/null "$root/etc/ec2boot/demo.secret"
	echo "demo-password" > "$root/etc/ec2boot/demo.secret"
	cp templates/*.tmpl "$root/etc/ec2boot/templates/"
}
bake "$ROOT"
bake "$ROOT2"

# start_imds PORT INSTANCE-ID LOCAL-IPV4 PUBLIC-IPV4 USER-DATA-FILE
start_imds() {
	local port=$1 id=$2 local4=$3 public4=$4 ud=$5
	local cfg=$RUN/imds-$port.json
	cat > "$cfg" <<JSON
{
  "imdsv2": true,
  "server": { "hostname": "127.0.0.1", "port": "$port" },
  "metadata": { "values": {
    "instance-id": "$id", "local-ipv4": "$local4", "public-ipv4": "$public4",
    "hostname": "ip-${local4//./-}.eu-west-1.compute.internal",
    "local-hostname": "ip-${local4//./-}.eu-west-1.compute.internal",
    "placement-availability-zone": "eu-west-1a", "placement-region": "eu-west-1" } },
  "userdata": { "values": { "userdata": "$(base64 -w0 "$ud")" } }
}
JSON
	HOME=$RUN "$AEMM" -c "$cfg" > "$RUN/imds-$port.log" 2>&1 &
	pids+=($!)
	wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

say "Local peers: a dyndns2 provider with DNS for example.test, and web-1's metadata service"
echo demo-password > "$RUN/provider.secret"
"$BIN/ec2boot-testpeers" -http "127.0.0.1:$HTTP_PORT" -dns "127.0.0.1:$DNS_PORT" -zone example.test \
	-user demo -password-file "$RUN/provider.secret" \
	-seed db-1.internal.example.test=10.0.2.11 -seed db-2.internal.example.test=10.0.2.12 \
	-seed web-2.internal.example.test=10.0.1.12 \
	> "$RUN/testpeers.out" 2> "$RUN/testpeers.log" &
pids+=($!)
wait_for grep -q '^ready' "$RUN/testpeers.out"
cat "$RUN/testpeers.out"
start_imds "$IMDS_WEB1" i-0demo00000000web1 10.0.1.11 203.0.113.11 demo/user-data-web-1.toml
echo "web-1 metadata: http://127.0.0.1:$IMDS_WEB1 (instance i-0demo00000000web1, 10.0.1.11 / 203.0.113.11)"

IMDS1=(--root "$ROOT" --imds-endpoint "http://127.0.0.1:$IMDS_WEB1")

say "ec2boot plan: what the first boot would change (nothing is changed)"
ec2boot plan "${IMDS1[@]}"

say "ec2boot run: the first boot"
ec2boot run "${IMDS1[@]}" || echo "(exit $?)"

say "/etc/hosts (demo/root/etc/hosts): the operator's lines kept, ec2boot's block added"
cat "$ROOT/etc/hosts"
say "A rendered config: /etc/nginx/conf.d/upstream.conf"
cat "$ROOT/etc/nginx/conf.d/upstream.conf"
say "ec2boot status"
"$BIN/ec2boot" status --root "$ROOT" || true

say "ec2boot run again: nothing changed, so nothing is sent, written or reloaded"
snapshot() { find "$ROOT/etc" "$ROOT/var" -type f -printf '%P inode=%i mtime=%T@\n' | sort; }
snapshot > "$RUN/files.before"
requests_before=$(grep -c 'nic/update' "$RUN/testpeers.log" || true)
rm -f "$RUN/nginx-reloaded" "$RUN/app-reloaded"
ec2boot run "${IMDS1[@]}"
snapshot > "$RUN/files.after"
requests_after=$(grep -c 'nic/update' "$RUN/testpeers.log" || true)
if cmp -s "$RUN/files.before" "$RUN/files.after"; then
	echo "files under /etc and /var rewritten: none"
else
	echo "files under /etc and /var rewritten:"
	diff "$RUN/files.before" "$RUN/files.after" | grep '^>' | sed 's/^> /  /' || true
fi
echo "provider requests sent: $((requests_after - requests_before))"
echo "actions run: $(ls "$RUN"/*-reloaded 2>/dev/null | wc -l)"

say "web-2 is redeployed: new instance, new address 10.0.1.42; its own ec2boot registers it"
start_imds "$IMDS_WEB2" i-0demo00000000web2 10.0.1.42 203.0.113.42 demo/user-data-web-2.toml
ec2boot run --root "$ROOT2" --imds-endpoint "http://127.0.0.1:$IMDS_WEB2" || echo "(exit $?)"

say "web-1's next timer run picks up web-2's new address"
cp "$ROOT/etc/hosts" "$RUN/hosts.before"
cp "$ROOT/etc/nginx/conf.d/upstream.conf" "$RUN/upstream.before"
ec2boot run "${IMDS1[@]}" || echo "(exit $?)"
diff -u "$RUN/hosts.before" "$ROOT/etc/hosts" || true
diff -u "$RUN/upstream.before" "$ROOT/etc/nginx/conf.d/upstream.conf" || true
echo "actions run: $(cd "$RUN" && ls ./*-reloaded 2>/dev/null | tr '\n' ' ')"

say "Done. Everything is under demo/ (make clean removes it)."
