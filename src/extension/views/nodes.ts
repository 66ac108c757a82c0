import type { Task } from '../../core/runner/taskSnapshot.ts';
import type { Training } from '../../core/store/trainings.ts';
import type { Artifact } from '../../core/models/modelRegistry.ts';
import type { VoiceRecord } from '../../core/models/voiceImport.ts';
import type { FolderStore } from '../folderStore.ts';
import type { StepRow } from './stepStates.ts';

/** Every row of the three trees; commands receive these as their first argument from menus. */
export type ViewNode =
  | { kind: 'folder'; view: 'trainings' | 'tasks' | 'models'; folder: FolderStore }
  | { kind: 'training'; folder: FolderStore; training: Training }
  | { kind: 'step'; folder: FolderStore; training: Training; row: StepRow }
  | {
      kind: 'info';
      id: string;
      label: string;
      description?: string;
      tooltip?: string;
      icon: string;
      contextValue?: string;
      path?: string;
      trainingId?: string;
    }
  | { kind: 'task'; folder: FolderStore; task: Task; trainingName: string }
  | { kind: 'modelTraining'; folder: FolderStore; training: Training }
  | { kind: 'artifact'; folder: FolderStore; training: Training; artifact: Artifact }
  | { kind: 'voices'; folder: FolderStore }
  | { kind: 'voice'; folder: FolderStore; voice: VoiceRecord };

export type NodeOf<K extends ViewNode['kind']> = Extract<ViewNode, { kind: K }>;
