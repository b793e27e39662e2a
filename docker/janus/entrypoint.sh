#!/bin/sh
# Fill the configuration in from the environment, then run Janus in the foreground.
#   JANUS_ADMIN_SECRET  (required) the admin API's secret; also the VideoRoom plugin's admin_key.
#                       Third Space's janus_admin_secret must be the same.
#   JANUS_PUBLIC_IP     the address browsers reach this machine on (1:1 NAT, as in Docker or a cloud
#                       VM): Janus puts it in its ICE candidates. Empty: the container's own addresses.
#   JANUS_RTP_PORTS     the UDP port range for media (default 20000-20099, as published).
#   JANUS_ALLOW_ORIGIN  the page's origin (https://space.example.org) for CORS; empty: any origin.
#   JANUS_HTTP_PORT, JANUS_ADMIN_PORT  the Janus API's and the admin API's TCP ports (8088, 7088).
#   JANUS_TEMPLATES     where the *.jcfg templates are (default /etc/thirdspace-janus).
set -eu
: "${JANUS_ADMIN_SECRET:?set JANUS_ADMIN_SECRET (the same as Third Space janus_admin_secret)}"
conf=$(mktemp -d)
for file in "${JANUS_TEMPLATES:-/etc/thirdspace-janus}"/*.jcfg; do
  sed -e "s|@ADMIN_SECRET@|${JANUS_ADMIN_SECRET}|g" \
      -e "s|@RTP_PORTS@|${JANUS_RTP_PORTS:-20000-20099}|g" \
      -e "s|@CONF@|${conf}|g" \
      -e "s|@HTTP_PORT@|${JANUS_HTTP_PORT:-8088}|g" \
      -e "s|@ADMIN_PORT@|${JANUS_ADMIN_PORT:-7088}|g" \
      "$file" > "$conf/$(basename "$file")"
done
if [ -n "${JANUS_PUBLIC_IP:-}" ]; then
  sed -i -e "s|^\s*#nat_1_1_mapping.*|    nat_1_1_mapping = \"${JANUS_PUBLIC_IP}\"|" "$conf/janus.jcfg"
fi
if [ -n "${JANUS_ALLOW_ORIGIN:-}" ]; then
  sed -i -e "s|^\s*#allow_origin.*|    allow_origin = \"${JANUS_ALLOW_ORIGIN}\"|" "$conf/janus.transport.http.jcfg"
fi
exec janus --configs-folder "$conf" --config "$conf/janus.jcfg" --disable-colors "$@"
