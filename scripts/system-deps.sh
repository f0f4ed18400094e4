#!/usr/bin/env bash
# Debian packages the browser tests and PNG maps need: Chromium + ChromeDriver (the map tests drive a
# real headless browser) and a CJK font (Chinese labels in static PNG maps). Installs only what is
# missing, and only where it can (root with apt-get); otherwise it says what to install.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v node >/dev/null 2>&1 || need+=(nodejs)  # the scenario page's JS engine tests (node --test)
fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk\|droid sans fallback' || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]}"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
    || echo "system-deps: could not install ${need[*]}; browser tests will fail" >&2
else
  echo "system-deps: please install: sudo apt-get install ${need[*]}" >&2
fi
exit 0
