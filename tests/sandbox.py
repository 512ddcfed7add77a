"""Runs a rendered host script against a temporary root directory with stub system commands.

The stubs log every call to calls.log and keep just enough state (installed packages, services, cluster files)
for a second run to see what the first one did. Touching state/fail/<command> makes that command fail.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from components import versions

STUB_PREAMBLE = """#!/usr/bin/env bash
S="{state}"; R="{root}"
echo "$(basename "$0") $*" >>"{log}"
if [[ -e "$S/fail/$(basename "$0")" || -e "$S/fail/$(basename "$0")-${{1:-}}" ]]; then echo "stub $(basename "$0") failing; token abcdef.secret" >&2; exit 1; fi
"""

STUBS = {
    "hostname": 'cat "$S/hostname"',
    "hostnamectl": 'echo "$2" >"$S/hostname"',
    # As dpkg prints them: status "installed" (abbreviated "hi" when held, "ii" otherwise) and the version.
    "dpkg-query": '''p="${@: -1}"; [[ -f "$S/pkgs/$p" ]] || exit 1
if [[ $* == *Status-Abbrev* ]]; then if [[ -e "$S/held/$p" ]]; then s=hi; else s=ii; fi; else s=installed; fi
echo "$s $(cat "$S/pkgs/$p")"''',
    "dpkg": '''[[ $1 == --print-architecture ]] && echo amd64; true''',
    # Static pods' containers as the kubelet runs them: one per manifest in the kubelet's folder, a new ID once a
    # manifest that left comes back or once its content changed; state/stuck/<pod> keeps a pod's old container
    # running whatever happens.
    "crictl": r'''[[ $1 == ps ]] || exit 0; n=""; for a in "$@"; do case $a in ^*) n=${a#^}; n=${n%\$};; esac; done
[[ $n =~ ^[a-z-]+$ ]] || exit 0; c="$S/containers"; mkdir -p "$c"; g=$(cat "$c/$n" 2>/dev/null || echo 0)
if [[ -e "$S/stuck/$n" ]]; then echo "c-$n-$g"; exit 0; fi
f="$R/etc/kubernetes/manifests/$n.yaml"
if [[ -f $f ]]; then h=$(cksum <"$f"); o=$(cat "$c/$n.sum" 2>/dev/null || echo "$h")
  if [[ -e "$c/$n.gone" || $o != "$h" ]]; then g=$((g + 1)); echo "$g" >"$c/$n"; rm -f "$c/$n.gone"; fi
  echo "$h" >"$c/$n.sum"; echo "c-$n-$g"
else touch "$c/$n.gone"; fi''',
    # A package listed in state/replaces/<package> removes those packages when it is installed (Conflicts).
    # apt removes a held package only when it is named for removal (NAME-), as apt itself refuses.
    # state/stale-lists: the host's package lists are empty or stale; `apt-get update` reads them again.
    "apt-get": '''if [[ $1 == update ]]; then rm -f "$S/stale-lists"; exit 0; fi
[[ $1 == install ]] || exit 0
if [[ -f "$S/stale-lists" ]]; then echo "E: Unable to locate package ${*: -1}" >&2; exit 100; fi
for a in "$@"; do case "$a" in *-) [[ $a == -* ]] || rm -f "$S/pkgs/${a%-}" "$S/held/${a%-}";; esac; done
for a in "$@"; do case "$a" in -*|*-|install|Dpkg::*) continue;; *=*) p=${a%%=*};; *) p=$a;; esac
  if [[ -f "$S/replaces/$p" ]]; then while read -r r; do if [[ -e "$S/pkgs/$r" && -e "$S/held/$r" ]]; then
    echo "E: Unable to correct problems, you have held broken packages." >&2; exit 100; fi
    rm -f "$S/pkgs/$r"; done <"$S/replaces/$p"; fi
  case "$a" in *=*) echo "${a#*=}" >"$S/pkgs/$p";; *) cat "$S/available/$a" >"$S/pkgs/$a";; esac; done; true''',
    # state/madison/<package> holds the versions the repositories offer, newest first.
    "apt-cache": '''[[ $1 == madison && -f "$S/madison/$2" ]] || exit 0
while read -r v; do echo " $2 | $v | https://repo.example noble/stable amd64 Packages"; done <"$S/madison/$2"''',
    "apt-mark": '''case $1 in hold) touch "$S/held/$2";; unhold) rm -f "$S/held/$2";; showhold) ls "$S/held";; esac''',
    "systemctl": '''svc="${@: -1}"; case $1 in
  is-active) [[ -e "$S/active/$svc" ]];; is-enabled) [[ -e "$S/enabled/$svc" ]];;
  enable) touch "$S/enabled/$svc"; [[ $2 == --now ]] && touch "$S/active/$svc"; true;;
  disable) rm -f "$S/enabled/$svc"; [[ $2 == --now ]] && rm -f "$S/active/$svc"; true;;
  restart|start) touch "$S/active/$svc"
    # A kubelet that starts without a serving certificate makes a self-signed one for a year.
    k="$R/var/lib/kubelet/pki"; if [[ $svc == kubelet && -d $k && ! -e $k/kubelet.crt && ! -e "$S/fail/kubelet-cert" ]]; then
      date -u -d "+365 days" "+%b %d %H:%M:%S %Y GMT" >"$k/kubelet.crt"; echo key >"$k/kubelet.key"; fi;; reload) [[ -e "$S/active/$svc" ]];; esac''',
    "chronyc": "exit 0",
    "swapon": '[[ -f "$S/swap" ]] && cat "$S/swap"; true',
    "swapoff": 'rm -f "$S/swap"',
    "modprobe": '''case $1 in overlay) mkdir -p "$R/proc"; printf 'nodev\\toverlay\\n' >>"$R/proc/filesystems";;
  br_netfilter) mkdir -p "$R/proc/sys/net/bridge";; esac''',
    "sysctl": '''for a in "$@"; do case $a in *=*) k=${a%%=*}; k=${k//.//}; mkdir -p "$(dirname "$R/proc/sys/$k")"
  echo "${a#*=}" >"$R/proc/sys/$k";; esac; done''',
    "curl": '''case "$*" in *10248/healthz*) if [[ -e "$S/fail/kubelet-health" ]]; then exit 22; fi; echo ok;;
  *Release.key*) echo "KEY";; */gpg*) echo "DOCKER KEY" >"${@: -1}";; */version*) if [[ -e "$S/cluster-answers" ]]; then printf 401; else printf 000; exit 7; fi;;
  *readyz*) n=$(cat "$S/ready_in" 2>/dev/null || echo 0)
  if ((n > 0)); then echo $((n - 1)) >"$S/ready_in"; exit 22; fi; echo ok;; esac''',
    "gpg": '''if [[ $1 == --show-keys ]]; then echo "pub:-:4096:1:8D81803C0EBFCD88:1487788586:::-:::scESA::::::23::0:"
  echo "fpr:::::::::$(cat "$S/key-fingerprint"):"; [[ -e "$S/extra-key" ]] && echo "pub:-:255:22:0000000000000000:1::::"
  exit 0; fi; out="${@: -1}"; cat >"$out"''',
    # containerd parses its config: a version 3 file, as containerd 2 does (the real one is tested separately).
    "containerd": '''[[ $1 == --config && $3 == config ]] && grep -qx "version = 3" "$2"''',
    # Static pods carry their version in their image tag; state/cluster-version is kubeadm's ClusterConfiguration.
    "kubeadm": '''m="$R/etc/kubernetes/manifests"
pods() { mkdir -p "$m"; for c in kube-apiserver kube-controller-manager kube-scheduler; do
    echo "    image: registry.k8s.io/$c:$1" >"$m/$c.yaml"; done; echo "    image: registry.k8s.io/etcd:3.6.5-0" >"$m/etcd.yaml"
  certs; }
# The flags kube-apiserver gets from the apiServer extraArgs of a kubeadm config file.
api_flags() { awk '/^apiServer:/ { a = 1; next } /^[^ ]/ { a = 0 }
  a && $1 == "-" && $2 == "name:" { n = $3 } a && $1 == "value:" { gsub(/\\047/, "", $2); print "    - --" n "=" $2 }' "$1"; }
# A control plane's certificates as init or join makes them: a year (its CAs ten, the cluster's own on a join).
certs() { [[ -f "$S/certs" ]] && return 0; local y t; y=$(date -u -d "+365 days" +%Y-%m-%dT%H:%M:%SZ)
  t=$(date -u -d "+3650 days" +%Y-%m-%dT%H:%M:%SZ)
  for c in admin.conf apiserver apiserver-etcd-client apiserver-kubelet-client controller-manager.conf \
    etcd-healthcheck-client etcd-peer etcd-server front-proxy-client scheduler.conf super-admin.conf; do
    echo "certificate $c $y 3.1535999e+07 false false"; done >"$S/certs"
  for c in ca etcd-ca front-proxy-ca; do echo "authority $c $t 3.15359999e+08 false false"; done >>"$S/certs"; }
case "$1 $2" in
  "init --config") echo admin >"$R/etc/kubernetes/admin.conf"
    v=$(awk '$1 == "kubernetesVersion:" { gsub(/"/, "", $2); print $2 }' "$3"); pods "v${v#v}"; echo "v${v#v}" >"$S/cluster-version"
    api_flags "$3" >>"$m/kube-apiserver.yaml"; echo "kubeadm join lb:6443 --token abcdef.0123456789abcdef";;
  "join --config") echo kubelet >"$R/etc/kubernetes/kubelet.conf"
    # The kubelet registers its Node (when the cluster has none of that name).
    n=$(awk '/^nodeRegistration:/ { f = 1 } f && $1 == "name:" { print $2; exit }' "$3")
    if [[ -n $n && ! -e "$S/nodes/$n" ]]; then printf %s "$S" >"$S/nodes/$n"; rm -f "$S/notready/$n"; fi
    # A control plane's join writes admin.conf too, as kubeadm's does.
    if grep -q "controlPlane:" "$3"; then v=$(cat "$S/pkgs/kubeadm" 2>/dev/null); pods "v${v%%-*}"
      echo admin >"$R/etc/kubernetes/admin.conf"; fi;;
  "reset -f") rm -rf "$R/etc/kubernetes/admin.conf" "$R/etc/kubernetes/manifests" "$R/etc/kubernetes/kubelet.conf" \
      "$R/etc/kubernetes/bootstrap-kubelet.conf" "$R/etc/kubernetes/pki" "$R/var/lib/etcd" "$S/certs";;
  "token create") echo "abcdef.0123456789abcdef";;
  "certs certificate-key") k=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')
    echo "$k" >>"$S/certificate-keys"; echo "$k";;
  # control-plane apiserver: the manifest again, with the apiServer extraArgs of the config as flags.
  "init phase") case $3 in
      control-plane) v=$(awk '$1 == "kubernetesVersion:" { print $2 }' "$6"); mkdir -p "$m"
        { echo "    image: registry.k8s.io/kube-apiserver:$v"; api_flags "$6"; } >"$m/kube-apiserver.yaml";;
      upload-config) cp "$6" "$S/uploaded-kubeadm-config.yaml";;
      *) cp "${@: -1}" "$S/upload-certs.yaml";; esac;;
  # state/certs: the lines `certs check-expiration -o jsonpath=...` prints (certificates-lib.sh); a renewal gives
  # every kubeadm certificate a year from state/renewed-until.
  "certs check-expiration") cat "$S/certs";;
  "certs renew") u=$(cat "$S/renewed-until" 2>/dev/null || date -u -d "+365 days" +%Y-%m-%dT%H:%M:%SZ); awk -v u="$u" '$1 == "certificate" && $5 == "false" { $3 = u; $4 = "3.1535999e+07" } 1' \
      "$S/certs" >"$S/certs.new" && mv "$S/certs.new" "$S/certs";;
  "upgrade plan") echo "upgrade plan to $3";;
  "upgrade apply") pods "$3"; echo "$3" >"$S/cluster-version"; echo "$3" >"$S/kube-proxy-version";;
  "upgrade node") v=$(cat "$S/pkgs/kubeadm"); if [[ -f "$m/kube-apiserver.yaml" ]]; then pods "v${v%%-*}"; fi;;
  esac''',
    # A node of the cluster is a file in state/nodes: empty for this sandbox's own node, or the path of the state
    # folder of the sandbox that is that node (engine test hosts); its kubelet version is that sandbox's package
    # (a host without one has not joined: it is not listed).
    "kubectl": '''kubelet_of() { local d v; [[ -e "$S/nodes/$1" ]] || return 1; d=$(cat "$S/nodes/$1"); d=${d:-$S}
  v=$(cat "$d/pkgs/kubelet" 2>/dev/null || true); echo "v${v%%-*}"; }
runtime_of() { local d v; [[ -e "$S/nodes/$1" ]] || return 1; d=$(cat "$S/nodes/$1"); d=${d:-$S}
  v=$(cat "$d/pkgs/containerd.io" 2>/dev/null || cat "$d/pkgs/containerd" 2>/dev/null || true); echo "containerd://${v%%-*}"; }
case "$*" in
  *"get daemonset kube-proxy"*) printf 'registry.k8s.io/kube-proxy:%s' "$(cat "$S/kube-proxy-version" 2>/dev/null ||
      cat "$S/cluster-version")";;
  *"get configmap kubeadm-config"*) printf 'apiVersion: kubeadm.k8s.io/v1beta4\\nkubernetesVersion: %s\\n' \\
      "$(cat "$S/cluster-version")"; cat "$S/cluster-config" 2>/dev/null || true;;
  *"get nodes -o jsonpath"*machine-identity*) for f in "$S"/nodes/*; do [[ -e $f ]] || continue
      printf '%s|%s\n' "$(basename "$f")" "$(cat "$S/identity/$(basename "$f")" 2>/dev/null)"; done;;
  *"get nodes -o jsonpath"*) for f in "$S"/nodes/*; do [[ -e $f ]] || continue  # a node without a kubelet
      v=$(kubelet_of "$(basename "$f")"); [[ $v == v ]] || printf '%s %s\\n' "$(basename "$f")" "$v"; done;;
  *"get node "*kubeletVersion*) kubelet_of "$5";;
  *"get node "*containerRuntimeVersion*) runtime_of "$5";;
  *"get node "*machine-identity*InternalIP*) [[ -e "$S/nodes/$5" ]] || exit 0
    ready=True; [[ ! -e "$S/notready/$5" ]] || ready=False
    printf '%s|%s|%s' "$(cat "$S/identity/$5" 2>/dev/null)" "$ready" "$(cat "$S/node-address/$5" 2>/dev/null)";;
  *" annotate node "*machine-identity=*) [[ -e "$S/nodes/$5" ]] || exit 1; mkdir -p "$S/identity"; v=${@: -1}
    echo "${v#*=}" >"$S/identity/$5";;
  *"get node "*managed-labels*) cat "$S/managed/$5.labels" 2>/dev/null || true;;
  *"get node "*managed-taints*) cat "$S/managed/$5.taints" 2>/dev/null || true;;
  *" annotate node "*managed-labels=*) mkdir -p "$S/managed"; for a in "$@"; do case $a in
      k8s-platform.io/managed-labels=*) printf %s "${a#*=}" >"$S/managed/$5.labels";;
      k8s-platform.io/managed-taints=*) printf %s "${a#*=}" >"$S/managed/$5.taints";; esac; done;;
  *"get node "*upgrade-drained*) cat "$S/annotated/$5" 2>/dev/null || true;;
  *"get node "*unschedulable*) if [[ -e "$S/cordoned/$5" ]]; then echo true; fi;;
  *" annotate node "*upgrade-drained-) rm -f "$S/annotated/$5";;
  *" annotate node "*) mkdir -p "$S/annotated"; echo "${@: -1}" >"$S/annotated/$5";;
  *"get node "*Ready*) if [[ -e "$S/notready/$5" ]]; then echo False; else echo True; fi;;
  *"get node "*"--ignore-not-found -o name"*) if [[ -e "$S/nodes/$5" ]]; then echo "node/$5"; fi;;
  *" cordon "*) mkdir -p "$S/cordoned"; touch "$S/cordoned/$4";;
  *"get node"*) [[ -e "$S/nodes/${@: -1}" ]];;
  *"delete node"*) rm -f "$S/nodes/$5";;
  *" drain "*) mkdir -p "$S/cordoned"; touch "$S/cordoned/$4"  # a drain cordons first, as kubectl's does
    if [[ -e "$S/fail/drain" ]]; then echo "error: cannot evict pod demo/web-0: disruption budget" >&2; exit 1; fi;;
  *" uncordon "*) rm -f "$S/cordoned/$4";;
  *"get pods"*) printf 'demo/web-0 ';;
esac''',
    # An etcd snapshot through containerd: the file lands in the folder mounted at /snapshots. Like the real ctr,
    # it reads its stdin to the end (a step's script arrives on bash's stdin: an unguarded ctr ends the script).
    # etcdctl through containerd: state/etcd-members lists the members as `member list` prints them, and
    # state/etcd-unhealthy the client URLs that do not answer.
    "ctr": '''cat >/dev/null  # as the real `ctr run` does: it copies its stdin into the container
case "$*" in
  *"member list"*) cat "$S/etcd-members" 2>/dev/null; exit 0;;
  *"endpoint health"*) bad=0; while IFS=', ' read -r _ _ _ _ client _; do
      if grep -qx "$client" "$S/etcd-unhealthy" 2>/dev/null; then echo "$client is unhealthy: failed"; bad=1
      else echo "$client is healthy: successfully committed proposal"; fi; done <"$S/etcd-members"; exit $bad;;
  *"member remove"*) id=${@: -1}; grep -v "^$id, " "$S/etcd-members" >"$S/etcd-members.new" || true
    mv "$S/etcd-members.new" "$S/etcd-members"; echo "Member $id removed"; exit 0;;
esac
for a in "$@"; do case $a in *dst=/snapshots*) d=${a#*src=}; d=${d%%,*};; esac; done
out="${@: -1}"; echo snapshot >"$d/${out#/snapshots/}"''',
    # A certificate file in the sandbox holds its expiry date as text (`-enddate`, `-checkend` read it).
    "openssl": '''case $1 in x509) if [[ $* == *-enddate* ]]; then echo "notAfter=$(cat "$3")"
    elif [[ $* == *-checkend* ]] && e=$(date -u -d "$(cat "$3")" +%s 2>/dev/null); then
      for a in "$@"; do [[ $p == -checkend ]] && n=$a; p=$a; done; (( e - $(date -u +%s) > n ))
    else echo PUBKEY; fi;; pkey) cat;; dgst) cat >/dev/null; echo "0123abcd *stdin";; esac''',
    "sleep": "true",
    # System facts for the preflight: state/nproc, state/disk_kib, state/ntp and state/listeners set them.
    "nproc": 'cat "$S/nproc"',
    # df -P -k: a disk of state/disk_kib KiB (100 GiB unless set) with 1 KiB used.
    "df": 'k=$(cat "$S/disk_kib" 2>/dev/null || echo 104857600); echo "Filesystem 1024-blocks Used Available '
          'Capacity Mounted on"; echo "/dev/sda1 $k 1 $((k - 1)) 1% /"',
    "timedatectl": 'cat "$S/ntp"',
    "ss": 'cat "$S/listeners" 2>/dev/null; true',
    "update-ca-certificates": "true",
    # The real haproxy checks configs; keepalived's check is stubbed (it needs the VIP interface to exist).
    "haproxy": 'exec /usr/sbin/haproxy "$@"',
    "keepalived": 'grep -q "^vrrp_instance" "${@: -1}" || { echo "(${@: -1}) no vrrp_instance"; exit 4; }',
}
MUTATING = ("update-ca-certificates", "hostnamectl", "apt-get install", "apt-mark hold", "apt-mark unhold", "systemctl enable", "systemctl disable", "systemctl restart",
            "systemctl start", "systemctl reload", "swapoff",
            "modprobe", "sysctl -q -w", "gpg --dearmor", "kubeadm init", "kubeadm join", "kubeadm reset", "kubectl drain",
            "kubectl --kubeconfig", "apt-get update", "ctr", "systemctl daemon-reload", "kubeadm certs renew")


class Sandbox:
    def __init__(self, base: Path):
        self.root, self.bin, self.state = base / "root", base / "bin", base / "state"
        self.log = base / "calls.log"
        for d in (self.root / "etc", self.bin, *(self.state / s for s in
                  ("pkgs", "held", "active", "enabled", "fail", "available", "nodes", "madison", "replaces"))):
            d.mkdir(parents=True, exist_ok=True)
        (self.root / "etc/os-release").write_text('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="24.04"\n'
                                                  'VERSION_CODENAME=noble\n')
        (self.root / "etc/hosts").write_text("127.0.0.1 localhost\n")
        (self.root / "etc/fstab").write_text("UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n")
        (self.state / "hostname").write_text("ubuntu\n")
        (self.state / "swap").write_text("/swap.img file 2G 0B -2\n")
        (self.root / "etc/machine-id").write_text("0f1e2d3c4b5a69788796a5b4c3d2e1f0\n")
        (self.root / "proc").mkdir()
        (self.root / "proc/meminfo").write_text("MemTotal:       65536000 kB\nMemFree:        60000000 kB\n")
        (self.root / "var/lib").mkdir(parents=True)
        (self.state / "nproc").write_text("16\n")
        (self.state / "disk_kib").write_text(f"{600 * 1024 * 1024}\n")
        (self.state / "ntp").write_text("yes\n")
        for package, version in (("chrony", "4.5-1ubuntu4"), ("containerd", "1.7.28-0ubuntu1~24.04.1"),
                                 ("haproxy", "2.8.5-1ubuntu3"), ("keepalived", "1:2.2.8-1build2")):
            (self.state / "available" / package).write_text(version + "\n")
        # Docker's repository: its key, and containerd.io (which replaces Ubuntu's containerd and runc).
        (self.state / "key-fingerprint").write_text(versions.CONTAINERD_APT_KEY_FINGERPRINT + "\n")
        (self.state / "madison" / versions.CONTAINERD_PACKAGE).write_text(
            f"{versions.CONTAINERD_VERSION}-2~ubuntu.24.04~noble\n{versions.CONTAINERD_VERSION}-1~ubuntu.24.04~noble\n"
            "2.2.1-1~ubuntu.24.04~noble\n")
        (self.state / "replaces" / versions.CONTAINERD_PACKAGE).write_text(
            f"{versions.LEGACY_CONTAINERD_PACKAGE}\nrunc\n")
        self.log.write_text("")
        for name, body in STUBS.items():
            stub = self.bin / name
            stub.write_text(STUB_PREAMBLE.format(state=self.state, root=self.root, log=self.log) + body + "\n")
            stub.chmod(0o755)

    def run(self, script: str, timeout: float = 60) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.root), "LANG": "C.UTF-8"}
        return subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, env=env,
                              timeout=timeout)

    def calls(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line]

    def container_starts(self, pod: str) -> int:
        """How many times the static pod's container started again (the crictl stub counts them)."""
        path = self.state / "containers" / pod
        return int(path.read_text()) if path.exists() else 0

    def reset_calls(self) -> None:
        self.log.write_text("")

    def mutating_calls(self) -> list[str]:
        return [c for c in self.calls() if c.startswith(MUTATING) and "get node" not in c]

    def fail(self, command: str) -> None:
        """Makes `command` fail; "kubeadm-init" fails only `kubeadm init ...`."""
        (self.state / "fail" / command).touch()

    def heal(self, command: str) -> None:
        (self.state / "fail" / command).unlink()

    def snapshot(self) -> dict[str, bytes]:
        files = {}
        for base in (self.root, self.state):
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    files[str(path.relative_to(base.parent))] = path.read_bytes()
        return files


def installed(sandbox: Sandbox, package: str) -> str | None:
    path = sandbox.state / "pkgs" / package
    return path.read_text().strip() if path.exists() else None


def render_for(sandbox: Sandbox, renderer, *args) -> str:
    """A step's script with ROOT pointed at the sandbox (the header's ROOT line is the only difference)."""
    script = renderer(*args)
    assert "readonly ROOT=''" in script
    return script.replace("readonly ROOT=''", f"readonly ROOT={shlex.quote(str(sandbox.root))}", 1)
