"""Frames scored side by side give what a plain loop gives, in order, and a frame's error is not lost."""

import threading
import time

import pytest

from sunspotter.evaluation.frame_pool import each_frame


def test_results_come_back_in_the_frames_order_whichever_finishes_first():
    def slow_first(n):
        time.sleep(0.05 * (5 - n))  # the first frames take longest
        return n * n

    assert each_frame(slow_first, range(5), desc="squares", progress=False, workers=2) == [0, 1, 4, 9, 16]


def test_two_workers_score_two_frames_at_once():
    both_started = threading.Barrier(2, timeout=5)

    def meet(n):
        both_started.wait()  # times out (BrokenBarrierError) unless a second frame runs meanwhile
        return threading.get_ident()

    threads = each_frame(meet, range(2), desc="meet", progress=False, workers=2)
    assert len(set(threads)) == 2


def test_a_frame_that_fails_stops_the_run_with_its_error():
    def broken(n):
        if n == 3:
            raise ValueError("frame 3 is unreadable")
        return n

    with pytest.raises(ValueError, match="frame 3"):
        each_frame(broken, range(6), desc="broken", progress=False, workers=2)


def test_no_frames_give_no_results():
    assert each_frame(lambda n: n, [], desc="none", progress=False) == []
