"""kafka-python driven by the end-to-end tests, speaking the Kafka 0.8 protocol.

  produce BOOTSTRAP TOPIC   reads "partition<TAB>key<TAB>value" lines from stdin,
                            sends each (acks=1) and prints "partition offset" per line
  consume BOOTSTRAP TOPIC --partitions 0,1 --count N
                            reads from the beginning of those partitions and prints
                            "partition offset key value" per message, N in all

  --api-version auto         let kafka-python probe the broker (its default) instead of
                             pinning Kafka 0.8: what a user who changes nothing runs

Exit status: 0 on success, 1 when a message was refused or too few arrived.
"""
import argparse
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

KAFKA_08 = (0, 8, 0)


def version_options(args):
    """kafka-python's own default is to probe; the tests pin 0.8 unless told 'auto'."""
    return {} if args.api_version == 'auto' else {'api_version': KAFKA_08}


def produce(args):
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        **version_options(args),
        acks=1,
        retries=0,
        request_timeout_ms=args.timeout_ms,
        max_block_ms=args.timeout_ms,
    )
    futures = []
    for line in sys.stdin.read().splitlines():
        if not line:
            continue
        partition, key, value = line.split('\t', 2)
        futures.append(
            producer.send(args.topic, key=key.encode(), value=value.encode(), partition=int(partition))
        )
    for future in futures:
        meta = future.get(timeout=args.timeout_ms / 1000)
        print(meta.partition, meta.offset, flush=True)
    producer.close(timeout=5)


def consume(args):
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        **version_options(args),
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=max(args.timeout_ms, 1000),
        fetch_max_wait_ms=100,
    )
    partitions = [TopicPartition(args.topic, int(p)) for p in args.partitions.split(',')]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen = 0
    deadline = time.monotonic() + args.timeout_ms / 1000
    while seen < args.count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            for r in records:
                print(r.partition, r.offset, r.key.decode(), r.value.decode(), flush=True)
                seen += 1
    consumer.close()
    if seen < args.count:
        print(f'only {seen} of {args.count} messages arrived', file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['produce', 'consume'])
    parser.add_argument('bootstrap')
    parser.add_argument('topic')
    parser.add_argument('--partitions', default='0')
    parser.add_argument('--count', type=int, default=0)
    parser.add_argument('--timeout-ms', type=int, default=15000)
    parser.add_argument('--api-version', choices=['0.8', 'auto'], default='0.8')
    args = parser.parse_args()
    produce(args) if args.command == 'produce' else consume(args)


if __name__ == '__main__':
    main()
