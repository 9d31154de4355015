# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upload throughput: ``cp`` of an image file against libvirt_volume's upload of the same
file into a pool, median of several rounds. A benchmark, not a test: it prints, asserts
nothing. Run in the lab:  tests/lab/lab exec .venv/bin/python tests/benchmarks/upload.py IMAGE"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import libvirt

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '.collections'))
from ansible_collections.vagrantless.libvirt.plugins.module_utils import volume as volumes  # noqa: E402


def timed(action):
    start = time.monotonic()
    action()
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('image')
    parser.add_argument('--uri', default='qemu:///system')
    parser.add_argument('--pool', default='default')
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    conn = libvirt.open(args.uri)
    pool = conn.storagePoolLookupByName(args.pool)
    directory = volumes._local_dir_pool_path(pool)
    fmt, capacity = volumes.image_info(args.image)
    size = os.path.getsize(args.image)
    copies, uploads, sent = [], [], 0
    for unused in range(args.rounds):
        target = os.path.join(directory, 'vlt-bench-cp.img')
        copies.append(timed(lambda: subprocess.run(['cp', '--sparse=always', args.image, target], check=True)))
        os.unlink(target)

        def upload():
            nonlocal sent
            vol, sent = volumes.publish_upload(conn, pool, 'vlt-bench-upload.img', fmt, capacity, args.image)
            vol.delete(0)
        uploads.append(timed(upload))
    result = dict(image=args.image, file_bytes=size, virtual_bytes=capacity, bytes_sent=sent,
                  cp_median_s=statistics.median(copies), upload_median_s=statistics.median(uploads))
    result['ratio_upload_to_cp'] = result['upload_median_s'] / result['cp_median_s']
    result['upload_mb_per_s'] = size / result['upload_median_s'] / 1e6
    print('%-10s %10s %12s' % ('method', 'median s', 'MB/s'))
    print('%-10s %10.3f %12.1f' % ('cp', result['cp_median_s'], size / result['cp_median_s'] / 1e6))
    print('%-10s %10.3f %12.1f' % ('upload', result['upload_median_s'], result['upload_mb_per_s']))
    print(json.dumps(result))


if __name__ == '__main__':
    main()
