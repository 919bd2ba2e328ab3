"""The CPU and memory gauges: what the sampler measures, how often, and that the widgets keep one minute."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from xlbatch.gui.gauges import HISTORY, INTERVAL_MS, CpuGauge, RamGauge, Sample, SystemMonitor


def test_sample_measures_the_machine_and_this_app(qtbot):
    monitor = SystemMonitor()
    sample = monitor.sample()
    assert len(sample.per_core) == psutil.cpu_count()
    assert all(0.0 <= v <= 100.0 for v in sample.per_core)
    assert 0.0 <= sample.cpu <= 100.0
    assert sample.memory_total == psutil.virtual_memory().total
    assert 0 < sample.memory_used <= sample.memory_total
    assert sample.app_bytes >= psutil.Process(os.getpid()).memory_info().rss * 0.5
    assert sample.cost > 0 and monitor.max_cost == sample.cost


def test_app_memory_includes_child_processes(qtbot):
    child = subprocess.Popen([sys.executable, "-c", "import time; data = bytearray(30_000_000); time.sleep(60)"])
    try:
        monitor = SystemMonitor()
        # Wait until the child holds its 30 MB, measured independently of the monitor.
        qtbot.waitUntil(lambda: psutil.Process(child.pid).memory_info().rss > 30_000_000, timeout=10_000)
        sample = monitor.sample()
        assert child.pid in sample.children
        assert sample.app_processes >= 2
        own = psutil.Process(os.getpid()).memory_info().rss
        assert sample.app_bytes > own + 25_000_000
    finally:
        child.kill()
        child.wait()


def test_the_timer_samples_at_least_twice_a_second(qtbot):
    monitor = SystemMonitor()
    assert INTERVAL_MS <= 500
    monitor.start()
    try:
        with qtbot.waitSignal(monitor.sampled, timeout=INTERVAL_MS * 4) as blocker:
            pass
        assert isinstance(blocker.args[0], Sample)
    finally:
        monitor.stop()
    assert not monitor.active


def test_gauges_keep_one_minute_of_history_and_paint(qtbot):
    cpu, ram = CpuGauge(), RamGauge()
    qtbot.addWidget(cpu)
    qtbot.addWidget(ram)
    for i in range(HISTORY + 30):
        sample = Sample(
            time=float(i),
            cpu=float(i % 100),
            per_core=[10.0, 90.0],
            memory_percent=50.0,
            memory_used=8 * 2**30,
            memory_total=16 * 2**30,
            app_bytes=2**30,
            app_processes=3,
        )
        cpu.update_sample(sample)
        ram.update_sample(sample)
    assert len(cpu.history) == HISTORY
    assert cpu.history[-1] == float((HISTORY + 29) % 100)
    assert cpu.value_text == f"{(HISTORY + 29) % 100} %"
    assert cpu.per_core == [10.0, 90.0]
    assert list(ram.machine_history)[-1] == 50.0
    assert list(ram.app_history)[-1] == 100.0 * 2**30 / (16 * 2**30)
    assert "2 child processes" in ram.toolTip()
    assert cpu.objectName() == "cpuGauge" and ram.objectName() == "ramGauge"
    for gauge in (cpu, ram):
        gauge.resize(gauge.sizeHint())
        image = gauge.grab().toImage()
        assert not image.isNull() and image.width() == gauge.sizeHint().width()
