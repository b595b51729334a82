#!/usr/bin/env bash
# Inside a pod's fresh mount, UTS and PID namespaces (sparkrt.Runtime.Run): lays out the
# container's file system over the host's and execs the image's entrypoint as the image's user.
#   container.sh SPARK_HOME APP_DIR ENTRYPOINT STAGED_POD_DIR
# APP_DIR, if not empty, is the image's /opt/app. STAGED_POD_DIR holds what the kubelet staged:
# mounts (SOURCE<TAB>PATH<TAB>rw|ro lines), env and args (NUL-separated), hosts, hostname.
# The image (apache/spark-docker 4.1.1/scala2.13-java17-ubuntu/Dockerfile) has the distribution
# at /opt/spark (lines 57-67), the entrypoint at /opt/entrypoint.sh (line 73), SPARK_HOME
# (line 75), WORKDIR /opt/spark/work-dir (line 77, group-writable, owned by spark), USER spark
# (line 79, uid 185), and tini and gosu (line 26), which this machine lacks: PID 1 is the
# sandbox's container-init (sparkrt.Init) in tini's place, so /usr/bin/tini here is a shim that
# execs its command.
set -euo pipefail
spark_home=$1 app_dir=$2 entrypoint=$3 dir=$4

mount --make-rprivate /
hostname "$(cat "$dir/hostname")"
# A writable layer over the host's directories the container changes, gone with the namespace.
layer() {
  mkdir -p "$dir/layer/$2/up" "$dir/layer/$2/work"
  mount -t overlay overlay -o "lowerdir=$1,upperdir=$dir/layer/$2/up,workdir=$dir/layer/$2/work" "$1"
}
layer /etc etc
layer /var var
layer /usr/bin usrbin
mount -t tmpfs -o mode=755 tmpfs /opt
mount -t tmpfs -o mode=755 tmpfs /run
mount -t proc proc /proc

mkdir -p /opt/spark /opt/app
for d in "$spark_home"/*; do
  if [[ -d $d ]]; then
    mkdir -p "/opt/spark/${d##*/}"
    mount --bind -o ro "$d" "/opt/spark/${d##*/}"
  else
    cp "$d" /opt/spark/
  fi
done
[[ -z $app_dir ]] || mount --bind -o ro "$app_dir" /opt/app
cp "$entrypoint" /opt/entrypoint.sh
mkdir -p /opt/spark/work-dir && chown 185:185 /opt/spark/work-dir && chmod 775 /opt/spark/work-dir
printf '#!/bin/sh\n[ "$1" = -s ] && shift\n[ "$1" = -- ] && shift\nexec "$@"\n' >/usr/bin/tini
chmod 755 /usr/bin/tini
echo 'spark:x:185:185::/nonexistent:/bin/sh' >>/etc/passwd
echo 'spark:x:185:' >>/etc/group
cp "$dir/hosts" /etc/hosts
while IFS=$'\t' read -r src path mode; do
  mkdir -p "$path"
  mount --bind "$src" "$path"
  [[ $mode != ro ]] || mount -o remount,bind,ro "$path"
done <"$dir/mounts"

mapfile -d '' env <"$dir/env"
mapfile -d '' args <"$dir/args"
# Last: the staged files live under the host's /tmp, which the container does not see.
mkdir -p "$dir/tmp" && chmod 1777 "$dir/tmp"
mount --bind "$dir/tmp" /tmp
cd /opt/spark/work-dir
# The image's environment (SPARK_HOME; PATH with the JDK's bin) and the pod's.
exec setpriv --reuid=185 --regid=185 --clear-groups \
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SPARK_HOME=/opt/spark HOME=/nonexistent \
  "${env[@]}" /opt/entrypoint.sh "${args[@]}"
