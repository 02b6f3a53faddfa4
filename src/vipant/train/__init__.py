"""Training pieces shared by VA pretraining and AT fine-tuning: loss, optimizer, schedule, precision."""
