"""Media helpers shared by the stages that touch audio and video files."""
