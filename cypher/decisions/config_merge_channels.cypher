// The Channel nodes constraints and placements link to (MERGEd: a fresh graph has none). Params: $channels
UNWIND $channels AS channelId
MERGE (:Channel {channelId: channelId})
