import numpy as np
import pytest

from identlam.envs.dcs import procedural
from identlam.envs.dcs.background import KEY_COLOR, VideoPlayer, composite, cube_lookup, ping_pong, pixel_rays
from identlam.envs.dcs.videos import load_video, video_names
from identlam.errors import ConfigError


def test_ping_pong_bounces_at_both_ends():
    index, direction, seen = 1, 1, []
    for _ in range(8):
        index, direction = ping_pong(index, direction, 3)
        seen.append(index)
    assert seen == [2, 1, 0, 1, 2, 1, 0, 1]
    assert ping_pong(0, -1, 1) == (0, -1)


def test_player_is_seeded_and_static_holds_its_frame():
    videos = [np.arange(5)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8) + 10 * i for i in range(3)]
    runs = []
    for _ in range(2):
        player = VideoPlayer(3, lambda i: videos[i], dynamic=True)
        player.reset(np.random.default_rng(7))
        trace = [tuple(player.exo)]
        for _ in range(6):
            player.step()
            trace.append(tuple(player.exo))
            assert player.frame[0, 0, 0] == videos[player.video_id][player.index][0, 0, 0]
        runs.append(trace)
    assert runs[0] == runs[1]
    assert len({t[1] for t in runs[0]}) > 1
    static = VideoPlayer(3, lambda i: videos[i], dynamic=False)
    static.reset(np.random.default_rng(7))
    first = static.exo
    static.step()
    assert static.exo == first


def test_cube_lookup_hits_face_centres_and_stays_upright():
    frame = np.zeros((9, 9, 3), np.uint8)
    frame[4, 4] = [10, 20, 30]  # centre
    frame[0, 4] = [200, 0, 0]  # top row, middle
    for axis in ([1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]):
        assert cube_lookup(frame, np.array([axis], float))[0].tolist() == [10, 20, 30]
        upwards = np.array([axis], float) + np.array([[0, 0, 1.0]])  # a tie picks the side face
        assert cube_lookup(frame, upwards)[0].tolist() == [200, 0, 0]  # +z is the top of the frame


def test_composite_replaces_only_key_pixels():
    rgb = np.full((4, 4, 3), 50, np.uint8)
    rgb[:2] = KEY_COLOR
    frame = np.full((8, 8, 3), 123, np.uint8)
    out = composite(rgb.copy(), frame, pixel_rays(4, 4, 45.0), np.eye(3))
    assert (out[:2] == 123).all() and (out[2:] == 50).all()


def test_procedural_videos_are_named_reproducible_and_smooth():
    train, held_out = procedural.split_names("train"), procedural.split_names("eval")
    assert len(train) == 60 and len(held_out) == 30 and not set(train) & set(held_out)
    a = procedural.procedural_video("train-00", frames=12, size=32)
    assert a.shape == (12, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, procedural.procedural_video("train-00", frames=12, size=32))
    assert not np.array_equal(a, procedural.procedural_video("train-01", frames=12, size=32))
    change = np.abs(np.diff(a.astype(np.int16), axis=0)).mean()
    jump = np.abs(a[0].astype(np.int16) - procedural.procedural_video("train-05", frames=1, size=32)[0]).mean()
    assert 0.5 < change < jump  # it moves, smoothly: consecutive frames are closer than other videos
    assert a.std() > 10  # textured, not flat


def test_davis_folder_layout(tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="reading frame folders needs pillow (the dcs extra)")

    for v, name in enumerate(["bear", "car", "dog", "eel"]):
        (tmp_path / name).mkdir()
        for t in range(3):
            img = np.full((12, 20, 3), 40 * v + 10 * t, np.uint8)
            Image.fromarray(img).save(tmp_path / name / f"{t:05d}.jpg", quality=95)
    (tmp_path / "notes").mkdir()  # no frames: not a video
    assert video_names(str(tmp_path), "train") == ["bear", "car", "eel"]
    assert video_names(str(tmp_path), "eval") == ["dog"]
    video = load_video(str(tmp_path), "car", 16)
    assert video.shape == (3, 16, 16, 3)
    assert np.abs(video[:, 8, 8, 0].astype(int) - [40, 50, 60]).max() <= 3  # sorted frames, resized
    (tmp_path / "eval.txt").write_text("bear\n")
    assert video_names(str(tmp_path), "eval") == ["bear"]
    with pytest.raises(ConfigError, match="background"):
        video_names(str(tmp_path / "missing"), "train")
    with pytest.raises(ConfigError, match="background_split"):
        video_names("procedural", "test")
